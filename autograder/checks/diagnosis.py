"""Naming a mistake from the numbers: when a student's value is an exact transform of the
expected one, say which, in plain words, with the likely fix.

:func:`diagnose_values` looks at a value that has the expected shape but fails;
:func:`diagnose_shape` at one whose shape differs; :func:`diagnose_plain` at a plain value
(a shape, a tuple) that differs; :func:`swapped_inputs` words a value that is the reference
solution's on the check's two ``swappable`` inputs exchanged (computed by the solution in the
reference run; the judge tests it with the check's own rules). Each returns one sentence or ``None``. A sentence is said
only when the transform holds for every value within the check's own tolerance (``close``),
so it is a fact about the numbers, never a guess; a value that passes is never diagnosed.
The causes named ("a mean where a sum is expected") are the usual ones for that fact.

Public checks only: a hidden check's message never quotes a value or a relation to the
reference (see :mod:`autograder.checks.rules`). This module is bundled into the student
notebook's self-check, so the notebook and the grader say the same words.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

Close = Callable[[np.ndarray, np.ndarray], bool]   # (actual, expected) of one shape -> within tolerance

_TELLING = (1 / math.log(10), 1 / math.log(2), math.log(10), 100.0, 0.01)   # said of a single number too
_FACTORS = (  # ratio actual/expected -> what it usually means
    (100.0, "is exactly 100 times the expected value: a percentage where a fraction is expected"),
    (0.01, "is exactly 1/100 of the expected value: a fraction where a percentage is expected"),
    (1 / math.log(10), "is the expected value divided by ln 10: a base-10 logarithm where the natural one is "
                       "expected (`tf.math.log` and `np.log` are the natural log)"),
    (1 / math.log(2), "is the expected value divided by ln 2: a base-2 logarithm where the natural one is expected"),
    (math.log(10), "is the expected value times ln 10: a natural logarithm where a base-10 one is expected"),
    (2.0, "is exactly twice the expected value: a factor 2 too many (a term counted twice, or the 1/2 of a "
          "squared error left out)"),
    (0.5, "is exactly half the expected value: a factor 1/2 too many (a term counted once where it is twice, or "
          "an extra 1/2)"),
)


def _scale_words(ratio: float) -> str:
    for factor, words in _FACTORS:
        if math.isclose(ratio, factor, rel_tol=1e-3):
            return words
    k = round(ratio)
    if k >= 3 and math.isclose(ratio, k, rel_tol=1e-3):
        return (f"is exactly {k} times the expected value: a sum where a mean over {k} values is expected "
                "(divide by their number), or a factor applied twice")
    k = round(1 / ratio) if ratio else 0
    if k >= 3 and math.isclose(1 / ratio, k, rel_tol=1e-3):
        return (f"is exactly 1/{k} of the expected value: a mean over {k} values where their sum is expected, or "
                "a division done twice")
    return (f"is the expected value times {ratio:.4g}: one constant factor is off (a rate applied twice, or a "
            "scale missing or extra)")


def diagnose_values(act: np.ndarray, exp: np.ndarray, close: Close) -> str | None:
    """A failing value of the expected shape that is an exact transform of the expected one."""
    if act.shape != exp.shape or act.size == 0 or not (np.all(np.isfinite(act)) and np.all(np.isfinite(exp))):
        return None
    if close(act, exp):
        return None
    if np.any(exp != 0) and close(-act, exp):
        return ("is the negative of the expected value: a sign is flipped (a cost without its minus, or a "
                "subtraction the wrong way round)")
    if np.all((exp >= 0) & (exp <= 1)) and close(1 - act, exp):
        return ("is 1 minus the expected value (its complement): the two classes swapped, the sign inside a "
                "sigmoid flipped (sigmoid(-z) = 1 - sigmoid(z)), or an error rate where an accuracy is asked")
    if act.ndim == 2 and act.shape[0] == act.shape[1] and close(act.T, exp):
        return "is the expected matrix transposed: rows and columns are swapped (check the order of a matmul)"
    nonzero = np.abs(exp) > 1e-12
    if np.any(nonzero) and np.all(np.abs(act[~nonzero]) <= 1e-12):
        ratios = act[nonzero] / exp[nonzero]
        ratio = float(np.median(ratios))
        # Any two single numbers have a ratio: for one value, only a telling factor is a fact worth saying.
        telling = np.sum(nonzero) >= 2 or any(math.isclose(ratio, f, rel_tol=1e-4) for f in _TELLING)
        if telling and ratio != 0 and not math.isclose(ratio, 1.0, rel_tol=1e-6) and close(act, ratio * exp) \
                and close(act / ratio, exp):
            return _scale_words(ratio)
    offset = float(np.median(act - exp))
    if act.size > 1 and offset != 0 and not np.all(act == act.reshape(-1)[0]) and close(act - offset, exp):
        return (f"is the expected value plus {offset:.4g} everywhere: a constant term is added or missing "
                "(a bias, or a +1)")
    for decimals in range(0, 4):
        if np.array_equal(act, np.round(exp, decimals)) and not close(np.round(exp, decimals), exp):
            return f"is the expected value rounded to {decimals} decimal(s): return it without rounding"
    edge = (np.abs(exp) <= 1e-12) | (np.abs(exp - 1) <= 1e-12)
    wrong = ~_each_close(act, exp, close)
    if np.any(edge) and np.all(edge[wrong]) and np.all(np.abs(act - exp)[wrong] <= 1e-3):
        return ("differs only where the expected value is exactly 0 or 1, by a tiny amount: a value clipped "
                "away from 0 and 1 (an epsilon) where the exact one is expected")
    return None


def _each_close(act: np.ndarray, exp: np.ndarray, close: Close) -> np.ndarray:
    flat_a, flat_e = act.reshape(-1), exp.reshape(-1)
    return np.array([close(flat_a[i:i + 1], flat_e[i:i + 1]) for i in range(flat_a.size)]).reshape(act.shape)


def diagnose_shape(act: np.ndarray, exp: np.ndarray, close: Close) -> str | None:
    """A value of another shape that holds the expected values (or all but one step of them)."""
    if act.size == exp.size and act.size:
        if close(act.reshape(exp.shape), exp):
            if exp.ndim == 1 and act.shape == (exp.size, 1):
                return (f"holds the right values as a column of shape {act.shape} where a vector of shape "
                        f"{exp.shape} is expected: flatten it (`tf.reshape(x, [-1])`, or `x[:, 0]`)")
            if exp.ndim == 1 and act.shape == (1, exp.size):
                return (f"holds the right values as a row of shape {act.shape} where a vector of shape "
                        f"{exp.shape} is expected: flatten it (`tf.reshape(x, [-1])`, or `x[0]`)")
            if act.ndim == 1 and exp.shape == (act.size, 1):
                return (f"holds the right values as a vector where a column of shape {exp.shape} is expected: "
                        "add the axis (`tf.reshape(x, [-1, 1])`, or `x[:, None]`)")
            if act.ndim == 2 and exp.ndim == 2 and act.shape == exp.shape[::-1] and close(act.T, exp):
                return (f"is the expected {exp.shape} matrix transposed ({act.shape}): rows and columns are "
                        "swapped (check the order of a matmul, or the axis of a stack)")
            return (f"holds the right values in the shape {act.shape}, not {exp.shape}: reshape it (or keep the "
                    "axes the operation should keep)")
        if act.ndim == 2 and exp.ndim == 2 and act.shape == exp.shape[::-1] and close(act.T, exp):
            return (f"is the expected {exp.shape} matrix transposed ({act.shape}): rows and columns are swapped")
    if act.ndim == 1 and exp.ndim == 1 and abs(act.size - exp.size) == 1 and min(act.size, exp.size):
        if act.size + 1 == exp.size:
            if close(act, exp[:-1]):
                return (f"has {act.size} values where {exp.size} are expected: the last step is missing (an "
                        "off-by-one in the number of steps, e.g. `range(n - 1)`, or the last value not recorded)")
            if close(act, exp[1:]):
                return (f"has {act.size} values where {exp.size} are expected: the first value is missing (an "
                        "off-by-one: the value before the first step is not recorded)")
        else:
            if close(act[:-1], exp):
                return (f"has {act.size} values where {exp.size} are expected: one step too many at the end (an "
                        "off-by-one in the number of steps, e.g. `range(n + 1)`)")
            if close(act[1:], exp):
                return (f"has {act.size} values where {exp.size} are expected: one value too many at the start "
                        "(an off-by-one: a value recorded before the first step as well)")
    return None


def diagnose_nan(act: np.ndarray, exp: np.ndarray) -> str | None:
    """NaN exactly where the expected value is 0: a division by zero there."""
    if act.shape != exp.shape:
        return None
    extra = np.isnan(act) & ~np.isnan(exp)
    if np.any(extra) and np.all(exp[extra] == 0):
        return ("is NaN exactly where the expected value is 0: a division by zero there (e.g. `a / abs(a)` at 0; "
                "`tf.sign` and `tf.math.divide_no_nan` handle it)")
    return None


def _is_shape(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(
        isinstance(d, int) and not isinstance(d, bool) for d in value)


def _values_of_shape(act: Any, exp: Any) -> bool:
    """Whether ``act`` holds values whose shape is the shape ``exp`` (or, item by item, a list of them)."""
    if _is_shape(exp):
        try:
            got = np.asarray(act, dtype=float)
        except (TypeError, ValueError):
            return False
        return got.ndim >= 1 and got.shape == tuple(exp) and not (got.ndim == 1 and list(got) == list(exp))
    if isinstance(exp, (list, tuple)) and exp and all(_is_shape(e) for e in exp) \
            and isinstance(act, (list, tuple)) and len(act) == len(exp):
        return all(_values_of_shape(a, e) for a, e in zip(act, exp))
    return False


def diagnose_plain(act: Any, exp: Any) -> str | None:
    """A plain value (a shape, a tuple) that is something else the student had at hand."""
    if _values_of_shape(act, exp):
        return "holds values where their shape is asked: return the shape (`x.shape`, or `tf.shape(x)`)"
    if isinstance(exp, (list, tuple)) and isinstance(act, (list, tuple)) and len(exp) == len(act) == 2 \
            and list(act) == list(exp)[::-1]:
        return "has the two parts in the opposite order: return them in the order the exercise names them"
    return None


def swapped_with(key: str, act: np.ndarray, others: dict[str, np.ndarray], close: Close) -> str | None:
    """Another expected value of the check that ``act`` equals: outputs swapped or mixed up."""
    for other, value in others.items():
        if other != key and value.shape == act.shape and value.size and close(act, value):
            return f"holds what `{other}` should hold: two outputs are swapped (return them in the order asked)"
    return None


def _pair(names: list[str] | tuple[str, ...]) -> str:
    first, second = names
    return f"`{first}` and `{second}`"


def swapped_inputs(names: list[str] | tuple[str, ...]) -> str:
    """Said of one value that the reference solution gives on the two inputs exchanged."""
    return (f"is what the reference solution gives with {_pair(names)} swapped: check the order of "
            f"{_pair(names)} where your code uses them (or passes them to a function)")


def all_swapped(names: list[str] | tuple[str, ...]) -> str:
    """Said of a whole answer whose every wrong value is the reference's on the inputs exchanged."""
    return (f"your function gives what the reference solution gives with {_pair(names)} swapped: check the "
            f"order of the arguments (where your code uses {_pair(names)}, or passes them to a function)")
