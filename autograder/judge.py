"""Judging (trusted, in the grading process): observations -> check results.

Each check's recorded values are decoded from plain data and compared with
the reference solution's values by the check's rules. A check passes only on
an ``ok`` observation that every rule accepts: a missing, forged-away,
crashed or undecodable observation is a failed check, never a pass.

Everything in an observation is treated as student-controlled (the student's
code runs in the process that records it, and can write to its channel). For
hidden checks, whose inputs the student's function received, messages name
the kind of problem only: no exception message, no exception type name unless
it is a builtin or a well-known TensorFlow one, no exit status or signal, no
time limit read from the observation, nothing the probe said about the value.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import asdict, dataclass

from autograder.hints import hint_for
from autograder.plaindata import DecodeError, decode
from autograder.rules import HIDDEN, Rule
from autograder.spec import Check

# TensorFlow's error classes (tf.errors): fixed names, safe to show for hidden checks.
TF_ERRORS = frozenset({
    "OpError", "CancelledError", "UnknownError", "InvalidArgumentError", "DeadlineExceededError",
    "NotFoundError", "AlreadyExistsError", "PermissionDeniedError", "UnauthenticatedError",
    "ResourceExhaustedError", "FailedPreconditionError", "AbortedError", "OutOfRangeError",
    "UnimplementedError", "InternalError", "UnavailableError", "DataLossError",
})


def safe_exception_name(name: str) -> str | None:
    """``name`` if it is a builtin exception class or a TensorFlow error, else None.

    A student's function can raise a class of any name (``type("LEAK_1.5",
    (Exception,), {})``), so a hidden check shows only names from these fixed sets.
    """
    if not isinstance(name, str) or not name.isidentifier():
        return None
    if name in TF_ERRORS:
        return name
    obj = getattr(builtins, name, None)
    if isinstance(obj, type) and issubclass(obj, BaseException) and not name.startswith("_"):
        return name
    return None


# Fixed crash details the sandbox reports, as shown for hidden checks (numbers dropped).
_HIDDEN_CRASH_DETAILS = [
    (re.compile(r"killed by signal -?\d+\Z"), "killed by a signal"),
    (re.compile(r"exit status -?\d+\Z"), "it exited"),
    (re.compile(r"recorded value too large\Z"), "the recorded value was too large"),
]


def _hidden_crash_detail(detail: str) -> str | None:
    for pattern, text in _HIDDEN_CRASH_DETAILS:
        if pattern.match(detail):
            return text
    return None


@dataclass
class CheckResult:
    id: str
    exercise: str
    points: float
    max_points: float
    passed: bool
    hidden: bool
    message: str
    outcome: str = "passed"   # passed | wrong | error | not_implemented | missing | timeout | crashed | skipped

    def to_json(self) -> dict:
        return asdict(self)


def decode_values(observation: dict) -> dict:
    values = observation.get("values")
    if not isinstance(values, dict):
        raise DecodeError("no values")
    return {str(k): decode(v) for k, v in values.items()}


def _failure(check: Check, obs: dict | None) -> tuple[str, str]:
    """(outcome, message) for an observation that is not a clean recording."""
    fn = f"`{check.exercise}`"
    hidden = check.hidden
    if obs is None:
        return "missing", f"{fn} was not checked: the notebook stopped before this check ran"
    status = obs.get("status")
    if status == "timeout":
        limit = obs.get("limit_s")
        scope = "the whole submission" if obs.get("scope") == "submission" else "this check"
        shown = (not hidden and isinstance(limit, (int, float)) and not isinstance(limit, bool))
        return "timeout", (f"{fn} did not finish within the time limit for {scope}"
                           + (f" ({limit:g} s)" if shown else "")
                           + ": look for an infinite loop or a very long computation")
    if status == "crashed":
        detail = str(obs.get("detail", ""))[:100]
        causes = "e.g. sys.exit, os._exit, running out of memory, or a crash inside a library"
        if hidden:
            safe = _hidden_crash_detail(detail)
            return "crashed", (f"calling {fn} with a hidden input ended the Python process"
                               + (f" ({safe})" if safe else "") + f"; {causes}")
        return "crashed", f"calling {fn} ended the Python process ({detail}); {causes}"
    if status == "skipped":
        return "skipped", (f"{fn} was not checked again because an earlier check of it "
                           f"{'hung' if obs.get('reason') == 'timeout' else 'crashed'}")
    if status != "error":
        return "error", f"{fn}: no usable result was recorded"
    kind, exc_type = obs.get("kind"), str(obs.get("exc_type", "?"))[:80]
    message = str(obs.get("message", ""))[:300]
    if kind == "missing":
        if hidden and message not in (f"{fn} is not defined", f"{fn} is defined but is not a function"):
            message = "a function this check calls is not defined or is not a function"
        return "missing", (f"{message}: the assignment asks for a function named {fn}; keep its name "
                           "and its answer cell")
    if kind == "student" and exc_type == "NotImplementedError":
        return "not_implemented", (f"{fn} is not implemented yet: replace `raise NotImplementedError()` "
                                   "in its answer cell with your code")
    if kind == "answer_type":
        if hidden:  # the probe's message quotes the value's type name and lengths
            return "wrong", (f"{fn}: {HIDDEN} the returned value has the wrong type or structure "
                             "(e.g. another number of values, or not numbers); the exercise and its "
                             "public checks say what to return")
        return "wrong", f"{fn}: {message}"
    hint = hint_for(exc_type, message)
    name = exc_type
    if hidden:
        name = safe_exception_name(exc_type) or "an exception"
    if kind == "student":
        where = obs.get("where") or []
        text = f"{fn} raised {name}"
        if hidden:
            text += " for a hidden input"
        else:
            text += f": {message}" if message else ""
            if where and isinstance(where[-1], str):
                text += f" (at {where[-1][:120]})"
    else:  # an exception in the probe itself: usually the answer's value broke it
        if hidden:
            text = f"using the value {fn} returned for a hidden input raised {name}"
        else:
            text = f"using the value {fn} returned raised {exc_type}"
            if message:
                text += f": {message}"
    return "error", text + (f". Likely cause: {hint}" if hint else "")


def _matching_mistake(check: Check, actual: dict, mistakes: list) -> str | None:
    """The message of a known mistake whose values the student's answer reproduces."""
    for message, observation in mistakes:
        if not observation or observation.get("status") != "ok":
            continue
        try:
            wrong = decode_values(observation)
            if all(rule.matches(actual, wrong) for rule in check.rules):
                return message
        except Exception:  # noqa: BLE001 - an answer of odd types matches no known mistake
            continue
    return None


def _breaks_on_reference(rule: Rule, expected: dict, hidden: bool) -> bool:
    """Whether a rule fails to judge the reference against itself (a bug in the check, not the answer)."""
    try:
        rule.judge(expected, expected, hidden)
    except Exception:  # noqa: BLE001
        return True
    return False


def judge_check(check: Check, obs: dict | None, reference: dict, mistakes: list = ()) -> CheckResult:
    def result(passed: bool, outcome: str, message: str) -> CheckResult:
        return CheckResult(check.id, check.exercise, check.points if passed else 0.0, check.points,
                           passed, check.hidden, message, outcome)

    if obs is None or obs.get("status") != "ok":
        outcome, message = _failure(check, obs)
        return result(False, outcome, message)
    try:
        actual = decode_values(obs)
    except DecodeError as exc:  # its text may quote the (forged) recording: not for hidden checks
        return result(False, "error", f"`{check.exercise}`: the recorded answer could not be read"
                      + (" (for a hidden input)" if check.hidden else f" ({exc})"))
    expected = decode_values(reference)
    for rule in check.rules:
        try:
            problem = rule.judge(actual, expected, check.hidden)
        except Exception as exc:  # noqa: BLE001 - e.g. a property meeting a forged value of another type
            if _breaks_on_reference(rule, expected, check.hidden):
                raise  # the check itself is broken: a grader error, never a student's zero
            text = "the recorded answer has values of the wrong type or structure and could not be judged"
            if check.hidden:  # an exception's text may quote the answer's values
                text = f"{HIDDEN} {text}"
            else:
                text += f" ({type(exc).__name__}: {str(exc)[:200]})"
            return result(False, "error", f"`{check.exercise}`: {text}")
        if problem:
            known = _matching_mistake(check, actual, mistakes)
            text = f"`{check.exercise}`: {problem}"
            return result(False, "wrong", text + (f". Likely mistake: {known}" if known else ""))
    return result(True, "passed", "passed" + (f": {check.explain}" if check.explain and not check.hidden else ""))


def judge_all(checks: list[Check], observations: dict, references: dict) -> list[CheckResult]:
    """``references`` as made by :func:`autograder.reference.compute_references`."""
    out = []
    for c in checks:
        known = [(m["message"], m["checks"].get(c.id)) for m in references.get("mistakes", {}).values()
                 if m.get("exercise") == c.exercise]
        out.append(judge_check(c, observations.get(c.id), references["checks"][c.id], known))
    return out
