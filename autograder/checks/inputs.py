"""A public check's inputs in short, readable words, shown beside its failing values.

Each input is named by its probe's parameter (``labels = [1.0, 0.0, 1.0]``); numbers read as
Python writes them; an array of more than :data:`THRESHOLD` numbers is summarised as numpy
summarises one (its first and last :data:`EDGE` items around ``...``), and an array of two
axes or more, or a summarised or cut one, says its shape. Every input, and all of them together,
stay within a few hundred characters.

Only a public check's inputs are ever worded (the judge decides: a hidden check's never are).
This module is bundled into the student notebook's self-check, so the notebook and the grader
say the same words.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

THRESHOLD = 12     # numbers shown in full (numpy's print threshold, as the rules' messages)
EDGE = 3           # items kept at each end of a summarised axis
ITEM_CHARS = 160   # one input
TOTAL_CHARS = 480  # all of them


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _number(x: Any) -> str:
    if isinstance(x, (bool, np.bool_)):
        return repr(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    text = repr(float(x))
    return text if len(text) <= 10 else f"{float(x):.6g}"


def _numeric(value: Any) -> np.ndarray | None:
    """The value as an array of numbers (one regular block of them), else None."""
    if isinstance(value, np.ndarray):
        return value if value.dtype.kind in "biuf" else None
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):  # ragged
        return None
    return arr if arr.dtype.kind in "biuf" and arr.ndim >= 1 else None


def _nested(value: Any, summarise: bool) -> str:
    """A regular block of numbers as written (a tuple stays a tuple, an int an int), summarised."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return _number(value.item())
    if not isinstance(value, (list, tuple, np.ndarray)):
        return _number(value)
    items = list(value)
    if summarise and len(items) > 2 * EDGE:
        parts = [_nested(a, summarise) for a in items[:EDGE]] + ["..."] + [_nested(a, summarise) for a in items[-EDGE:]]
    else:
        parts = [_nested(a, summarise) for a in items]
    if isinstance(value, tuple):
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    return "[" + ", ".join(parts) + "]"


def short(value: Any, top: bool = True) -> str:
    """One input in words: numbers, arrays (summarised, with their shape), strings, containers."""
    if value is None or isinstance(value, (bool, int, float, np.number, np.bool_)):
        return _number(value) if value is not None else "None"
    if isinstance(value, str):
        return repr(_cut(value, 40))
    arr = _numeric(value) if isinstance(value, (list, tuple, np.ndarray)) else None
    if arr is not None:
        summarise = arr.size > THRESHOLD
        text = _cut(_nested(value, summarise), ITEM_CHARS - 30)  # room for the shape, which is always said
        if top and (summarise or (arr.ndim >= 2 and not isinstance(value, tuple))):
            text += f" (shape {tuple(arr.shape)})"
        return text
    if isinstance(value, (list, tuple)):
        items = list(value)
        shown = items if len(items) <= 2 * EDGE else items[:EDGE] + [...] + items[-EDGE:]
        inner = ", ".join("..." if x is ... else short(x, top=False) for x in shown)
        return f"({inner}{',' if len(items) == 1 else ''})" if isinstance(value, tuple) else f"[{inner}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{short(k, False)}: {short(v, False)}" for k, v in list(value.items())[:2 * EDGE]) \
            + (", ..." if len(value) > 2 * EDGE else "") + "}"
    return f"a {type(value).__name__}"


def inputs_text(names: Sequence[str], args: Sequence[Any]) -> str:
    """``"labels = [1.0, 0.0, 1.0], p = [0.9, 0.2, 0.3]"``: each argument by its parameter's name
    (a ``*values`` parameter takes the rest, as a tuple); "" when there are none."""
    parts: list[str] = []
    args = list(args)
    for i, name in enumerate(names):
        if i >= len(args):
            break
        if name.startswith("*"):
            parts.append(f"{name[1:]} = {_cut(short(tuple(args[i:])), ITEM_CHARS)}")
            break
        parts.append(f"{name} = {_cut(short(args[i]), ITEM_CHARS)}")
    else:
        parts += [_cut(short(a), ITEM_CHARS) for a in args[len(names):]]
    return _cut(", ".join(parts), TOTAL_CHARS)
