"""Judging rules: compare a student's recorded values with the reference's.

Rules run in the grading process on decoded plain data only (see
:mod:`autograder.checks.plaindata`). Numbers are converted to float64 arrays and must
have exactly the reference's shape: nothing is broadcast, no student object is
ever called. A rule returns ``None`` when the value passes, else a message for
the student saying what is wrong (values, shapes, what the numbers suggest).

A rule never knows who will read its message: which words a student may see of a
check is the judge's decision alone (:mod:`autograder.checks.judge`), which replaces the
message of some checks with a fixed text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from autograder.checks.diagnosis import diagnose_nan, diagnose_plain, diagnose_shape, diagnose_values, swapped_with
from autograder.checks.plaindata import Opaque

# Fixed parts of messages.
SHAPES_MATCH = "shapes must match exactly; nothing is broadcast"
NUMBERS_EXPECTED = "numbers, an array or an eager tensor's value are expected"
NAN_EXAMPLE = "e.g. the square root or log of a negative number"


def describe(value: Any) -> str:
    """A short, safe description of a decoded value's type and shape."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, Opaque):
        return f"a {value.type_name}" if not value.too_large else repr(value)
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, (int, float)):
        return f"a Python {type(value).__name__}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"a {type(value).__name__}"


def _numbers(value: Any) -> np.ndarray | None:
    """float64 array of a numeric value, or None if it is not numeric data."""
    if isinstance(value, (bool, int, float)):
        return np.array(float(value))
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "c":
            return None
        return value.astype(np.float64)
    if isinstance(value, (list, tuple)):
        def walk(v: Any) -> bool:
            if isinstance(v, (list, tuple)):
                return all(walk(x) for x in v)
            if isinstance(v, (bool, int, float)):
                return True
            return isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "biuf"

        if not walk(value):
            return None
        try:
            arr = np.array(value, dtype=np.float64)
        except (ValueError, TypeError):  # ragged
            return None
        return arr
    return None


def _fmt(arr: np.ndarray) -> str:
    # One line; 4 decimals, so the last float32 digits (which differ between a student's
    # kernel and the sandbox) never make the notebook's words differ from the grader's.
    return np.array2string(np.asarray(arr), precision=4, separator=", ", threshold=12,
                           max_line_width=10**6).replace("\n", "")


class Rule:
    """Base class: ``key`` names the probe value this rule looks at."""

    key: str

    def judge(self, actual: dict, expected: dict) -> str | None:
        raise NotImplementedError

    def matches(self, actual: dict, wrong: dict) -> bool:
        """Whether the answer reproduces a known mistake's values (for feedback)."""
        return self.judge(actual, wrong) is None

    def describe_tolerance(self) -> str:
        return ""


@dataclass
class Close(Rule):
    """Numeric closeness: |actual - expected| <= atol + rtol * |expected| elementwise.

    ``dtype`` (e.g. ``"float32"``) additionally requires that exact dtype.
    ``scalar``: the reference is a single number and any one-element array is
    accepted (the curriculum says "returns a float"; a shape-(1,) tensor is
    the same answer). NaN and +/-inf must appear exactly where the reference
    has them.
    """

    key: str
    rtol: float = 1e-5
    atol: float = 1e-6
    dtype: str | None = None
    scalar: bool = False
    label: str = ""
    why: str = ""

    def describe_tolerance(self) -> str:
        """The tolerance in words for students: "allowed error 1e-06 + 1e-05 × |expected|"."""
        parts = ([f"{self.atol:g}"] if self.atol else []) + ([f"{self.rtol:g} × |expected|"] if self.rtol else [])
        return "allowed error " + (" + ".join(parts) or "0") + (f" ({self.why})" if self.why else "")

    def matches(self, actual: dict, wrong: dict) -> bool:
        # A mistake may be a wrong dtype: compare with the mistake's own dtype.
        a, w = actual.get(self.key), wrong.get(self.key)
        if self.dtype is not None and isinstance(w, np.ndarray):
            if not isinstance(a, np.ndarray) or a.dtype != w.dtype:
                return False
        relaxed = Close(self.key, self.rtol, self.atol, None, self.scalar)
        return relaxed.judge(actual, wrong) is None

    def judge(self, actual: dict, expected: dict) -> str | None:
        what = self.label or f"`{self.key}`"
        exp_raw, act_raw = expected.get(self.key), actual.get(self.key)
        exp = _numbers(exp_raw)
        if exp is None:
            raise ValueError(f"reference value {self.key!r} is not numeric: {describe(exp_raw)}")
        act = _numbers(act_raw)
        if act is None:
            return f"{what}: expected numbers, got {describe(act_raw)}"
        if self.dtype is not None:
            got = act_raw.dtype.name if isinstance(act_raw, np.ndarray) else type(act_raw).__name__
            if got != self.dtype:
                return f"{what}: expected dtype {self.dtype}, got {got}"
        if self.scalar:
            if act.size != 1:
                return f"{what}: expected a single number, got {describe(act_raw)}"
            act = act.reshape(exp.shape)
        elif act.shape != exp.shape:
            return named(f"{what}: expected shape {tuple(exp.shape)}, got {tuple(act.shape)} ({SHAPES_MATCH})",
                          diagnose_shape(act, exp, self.close))
        exp_nan, act_nan = np.isnan(exp), np.isnan(act)
        if np.any(act_nan & ~exp_nan):
            return named(f"{what}: NaN at {int(np.sum(act_nan & ~exp_nan))} position(s) where a number "
                          "is expected", diagnose_nan(act, exp))
        if np.any(exp_nan & ~act_nan):
            return (f"{what}: a number at {int(np.sum(exp_nan & ~act_nan))} position(s) where NaN "
                    f"is expected ({NAN_EXAMPLE})")
        exp_inf, act_inf = np.isinf(exp), np.isinf(act)
        if np.any(exp_inf != act_inf) or np.any(exp[exp_inf] != act[exp_inf]):
            return f"{what}: infinities do not match the expected ones"
        finite = ~(exp_nan | exp_inf)
        e, a = exp[finite], act[finite]
        if e.size == 0:
            return None
        abs_err = np.abs(a - e)
        ok = abs_err <= self.atol + self.rtol * np.abs(e)
        if np.all(ok):
            return None
        # Errors of the failing values only; a relative error only where the expected value is not 0.
        bad_err, bad_exp = abs_err[~ok], np.abs(e[~ok])
        msg = (f"{what}: {int(np.sum(~ok))} of {e.size} value(s) outside the allowed error "
               f"({self.describe_tolerance()}); max abs error {float(bad_err.max()):.3g}")
        if np.any(bad_exp > 0):
            msg += f", max rel error {float(np.max(bad_err[bad_exp > 0] / bad_exp[bad_exp > 0])):.3g}"
        if exp.size <= 12:
            msg += f"; expected {_fmt(exp)} with shape {tuple(exp.shape)}, got {_fmt(act)}"
        others = {k: v for k, v in ((k, _numbers(v)) for k, v in expected.items() if k != self.key) if v is not None}
        values = (diagnose_values(act, exp, self.close) if np.all(finite)  # else on the finite values alone
                  else diagnose_values(a, e, self.close))
        return named(msg, swapped_with(self.key, act, others, self.close) or values)

    def close(self, act: np.ndarray, exp: np.ndarray) -> bool:
        """Every value within this rule's tolerance of the expected one (same shapes)."""
        return act.shape == exp.shape and bool(np.all(np.abs(act - exp) <= self.atol + self.rtol * np.abs(exp)))


@dataclass
class SameShape(Rule):
    """Only the shape must match the reference's (for values that legitimately differ)."""

    key: str
    label: str = ""

    def judge(self, actual: dict, expected: dict) -> str | None:
        what = self.label or f"`{self.key}`"
        exp, act = _numbers(expected.get(self.key)), _numbers(actual.get(self.key))
        if act is None:
            return f"{what}: expected numbers, got {describe(actual.get(self.key))}"
        if exp is not None and act.shape != exp.shape:
            return f"{what}: expected shape {tuple(exp.shape)}, got {tuple(act.shape)}"
        return None


@dataclass
class Equal(Rule):
    """Exact equality of plain values (ints, strings, tuples, dicts of them).

    Tuples and lists compare equal when their items do: JSON has no tuples,
    and a student's ``[4]`` for a shape is the same answer as ``(4,)``.
    """

    key: str
    label: str = ""

    def judge(self, actual: dict, expected: dict) -> str | None:
        what = self.label or f"`{self.key}`"
        exp_raw, act_raw = expected.get(self.key), actual.get(self.key)
        if _plain(exp_raw) == _plain(act_raw):
            return None
        return named(f"{what}: expected {_short(exp_raw)}, got {_short(act_raw)}", diagnose_plain(act_raw, exp_raw))


NAMED = ". This value "  # what starts a diagnosis in a rule's message


def named(message: str, diagnosis: str | None) -> str:
    """A public message with what the numbers say the mistake is, when they say it exactly."""
    return message if diagnosis is None else f"{message}{NAMED}{diagnosis}"


def _plain(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return ("array", v.dtype.name, v.shape, v.tolist())
    return v


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 200 else text[:200] + "..."


@dataclass
class Property(Rule):
    """A property of the student's values, with the reference's for margins.

    ``test(actual, expected)`` returns None when the property holds, else a
    message saying what is wrong. (A test may take more keyword parameters
    with defaults: it is called with these two values only.)
    """

    test: Callable[..., str | None]
    key: str = ""

    def judge(self, actual: dict, expected: dict) -> str | None:
        return self.test(actual, expected)


def number(value: Any) -> float | None:
    """The single number in a decoded value (scalar or one-element array), else None."""
    arr = _numbers(value)
    if arr is None or arr.size != 1:
        return None
    return float(arr.reshape(()))
