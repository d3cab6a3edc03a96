"""What is wrong with a check file, said with its file and line (grading side only).

A check file (``checks.py``, ``hidden_checks.py``, ``mistakes.py``) is Python an
instructor writes; a slip in it must not turn into zero checks or a raw traceback.
:func:`validate_module` looks at a loaded module's names, :func:`load_error` turns an
exception raised while loading one into the same error. Every problem is a
:class:`CheckFileError`: ``path:line: message``.

Known names: ``CHECKS`` (a non-empty list of :class:`~autograder.checks.spec.Check`), ``LIMITS``
(a :class:`~autograder.checks.spec.Limits`, public file only), ``MISTAKES`` (a list of
:class:`~autograder.checks.spec.Mistake`, ``mistakes.py`` only) and ``DATA`` (file names next to
``checks.py`` copied into every run, public file only). Other upper-case names are the
author's own constants, unless they look like a misspelt known one (``CHEKS``).
"""

from __future__ import annotations

import ast
import difflib
import os
import traceback
from pathlib import Path
from types import ModuleType

from autograder.errors import CheckFileError  # noqa: F401 - raised here, caught by callers
from autograder.checks.rules import Rule
from autograder.checks.spec import Check, Limits, Mistake

KNOWN = ("CHECKS", "LIMITS", "MISTAKES", "DATA")




def load_error(path: str, exc: BaseException) -> CheckFileError:
    """The error of a check file that raised (or did not parse) while it was loaded."""
    if isinstance(exc, SyntaxError):  # possibly of a module the check file imports
        return CheckFileError(exc.filename or path, exc.lineno, f"syntax error: {exc.msg}")
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == path:
            line = frame.lineno  # the innermost line of the check file itself
    return CheckFileError(path, line, f"loading it raised {type(exc).__name__}: {exc}")


def _assignments(path: str) -> dict[str, ast.AST]:
    """Top-level ``NAME = value`` statements of the file: name -> value node (last wins)."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return {}
    found: dict[str, ast.AST] = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
            if isinstance(node, ast.AnnAssign) and node.value is not None else []
        for target in targets:
            if isinstance(target, ast.Name):
                found[target.id] = node
    return found


def _line_of(nodes: dict[str, ast.AST], name: str, index: int | None = None) -> int | None:
    node = nodes.get(name)
    if node is None:
        return None
    value = getattr(node, "value", None)
    if index is not None and isinstance(value, (ast.List, ast.Tuple)) and index < len(value.elts) \
            and not any(isinstance(e, ast.Starred) for e in value.elts):
        return value.elts[index].lineno
    return node.lineno


def validate_module(module: ModuleType, path: str, kind: str) -> None:
    """``kind``: "public", "hidden" or "mistakes". Raises the first problem found."""
    nodes = _assignments(path)
    wanted = {"public": ("CHECKS", "LIMITS", "DATA"), "hidden": ("CHECKS",), "mistakes": ("MISTAKES",)}[kind]
    main = "MISTAKES" if kind == "mistakes" else "CHECKS"
    if not hasattr(module, main):  # a misspelt CHECKS or MISTAKES, assigned in this file
        for name in sorted(n for n in nodes if n.isupper() and n not in KNOWN):
            if difflib.get_close_matches(name, [main], n=1, cutoff=0.75):
                raise CheckFileError(path, _line_of(nodes, name), f"unknown name {name}: did you mean {main}?")
    for name in KNOWN:
        if name not in wanted and hasattr(module, name) and name in nodes:
            raise CheckFileError(path, _line_of(nodes, name),
                                 f"{name} has no effect in a {kind} file (it belongs in "
                                 + ("mistakes.py" if name == "MISTAKES" else "checks.py") + ")")
    items = getattr(module, main, None)
    if items is None:
        raise CheckFileError(path, None, f"no {main} list: define {main} = [...] at the top level")
    if not isinstance(items, (list, tuple)):
        raise CheckFileError(path, _line_of(nodes, main), f"{main} must be a list")
    if not items and kind == "public":  # an emptied hidden or mistake file is fine
        raise CheckFileError(path, _line_of(nodes, main), f"{main} must be a non-empty list")
    if kind == "mistakes":
        for i, item in enumerate(items):
            if not isinstance(item, Mistake):
                raise CheckFileError(path, _line_of(nodes, main, i),
                                     f"MISTAKES[{i}] is a {type(item).__name__}, not a Mistake")
        return
    for i, item in enumerate(items):
        _validate_check(item, i, path, _line_of(nodes, main, i))
    limits = getattr(module, "LIMITS", None)
    if limits is not None and not isinstance(limits, Limits):
        raise CheckFileError(path, _line_of(nodes, "LIMITS"), f"LIMITS is a {type(limits).__name__}, not a Limits")
    data = getattr(module, "DATA", None)
    if data is not None:
        _validate_data(data, path, _line_of(nodes, "DATA"))


def _validate_check(item: object, i: int, path: str, line: int | None) -> None:
    if not isinstance(item, Check):
        raise CheckFileError(path, line, f"CHECKS[{i}] is a {type(item).__name__}, not a Check")
    where = f"check {item.id}"
    if not callable(item.probe):
        raise CheckFileError(path, line, f"{where}: its probe is a {type(item.probe).__name__}, not a function")
    if not isinstance(item.args, tuple):
        raise CheckFileError(path, line, f"{where}: args must be a tuple, not a {type(item.args).__name__}")
    rules = item.rules if isinstance(item.rules, (list, tuple)) else None
    if not rules:
        raise CheckFileError(path, line, f"{where}: rules must be a non-empty list of rules (Close, Equal, ...)")
    for rule in rules:
        if not isinstance(rule, Rule):
            raise CheckFileError(path, line, f"{where}: {rule!r:.60} is not a Rule (Close, Equal, Property, ...)")
    if not isinstance(item.points, (int, float)) or item.points < 0:
        raise CheckFileError(path, line, f"{where}: points must be a number of at least 0")
    if item.derive is not None and not callable(item.derive):
        raise CheckFileError(path, line, f"{where}: derive must be a function")
    if item.swappable:
        _validate_swappable(item, path, line)


def _validate_swappable(item: Check, path: str, line: int | None) -> None:
    """``swappable``: two different inputs of a public check, each a positional parameter of its probe."""
    where, names = f"check {item.id}", item.swappable
    if item.hidden:
        raise CheckFileError(path, line, f"{where}: swappable is for public checks only (a hidden check's message "
                                         "never names its inputs)")
    if not isinstance(names, tuple) or len(names) != 2 or len(set(names)) != 2 \
            or not all(isinstance(n, str) for n in names):
        raise CheckFileError(path, line, f"{where}: swappable must be a tuple of two different parameter names of "
                                         f"its probe, not {names!r:.80}")
    try:
        params = item.parameters()
    except (TypeError, ValueError):
        params = []
    for name in names:
        if name not in params or params.index(name) >= len(item.args):
            raise CheckFileError(path, line, f"{where}: swappable names {name!r}, which is not one of the inputs "
                                             f"its probe {item.probe_name} is given ({', '.join(params) or 'none'})")


def _validate_data(data: object, path: str, line: int | None) -> None:
    if not isinstance(data, (list, tuple)) or not all(isinstance(d, str) for d in data):
        raise CheckFileError(path, line, "DATA must be a list of file names")
    if len(set(data)) != len(data):
        raise CheckFileError(path, line, "DATA lists a file twice")
    for name in data:
        if name in ("", ".", "..") or "/" in name or "\\" in name or "\0" in name or os.path.basename(name) != name:
            raise CheckFileError(path, line, f"DATA: {name!r} must be a plain file name next to checks.py")
        if not (Path(path).parent / name).is_file():
            raise CheckFileError(path, line, f"DATA: {name} is not a file in {Path(path).parent}")
