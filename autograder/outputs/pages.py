"""HTML from the package's Jinja templates: the one place markup is made.

Autoescaping is on for every template; :func:`code_spans` is the only filter that adds
tags, after escaping, because messages quote what a student's code returned.
"""

from __future__ import annotations

import re

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

_ENV = Environment(loader=PackageLoader("autograder.outputs", "templates"), autoescape=select_autoescape(["j2", "html"]))
_CODE_SPAN = re.compile(r"`([^`]*)`")


def code_spans(text: object) -> Markup:
    """``text`` as HTML with each pair of backticks a ``<code>`` element. Escaped first: messages
    quote what the student's code returned, so only the tags added here may be markup. An
    unpaired backtick, or an empty pair, stays literal."""
    escaped = str(escape("" if text is None else text))
    return Markup(_CODE_SPAN.sub(lambda m: f"<code>{m[1]}</code>" if m[1] else m[0], escaped))


_ENV.filters["code_spans"] = code_spans


def render(template: str, **values) -> str:
    return _ENV.get_template(template).render(**values)
