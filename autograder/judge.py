"""Judging (trusted, in the grading process): observations -> check results.

Each check's recorded values are decoded from plain data and compared with
the reference solution's values by the check's rules. A check passes only on
an ``ok`` observation that every rule accepts: a missing, forged-away,
crashed or undecodable observation is a failed check, never a pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from autograder.hints import hint_for
from autograder.plaindata import DecodeError, decode
from autograder.spec import Check


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
    if obs is None:
        return "missing", f"{fn} was not checked: the notebook stopped before this check ran"
    status = obs.get("status")
    if status == "timeout":
        limit = obs.get("limit_s")
        scope = "the whole submission" if obs.get("scope") == "submission" else "this check"
        return "timeout", (f"{fn} did not finish within the time limit for {scope}"
                           + (f" ({limit:g} s)" if isinstance(limit, (int, float)) else "")
                           + ": look for an infinite loop or a very long computation")
    if status == "crashed":
        detail = str(obs.get("detail", ""))[:100]
        return "crashed", (f"calling {fn} ended the Python process ({detail}); e.g. sys.exit, os._exit, "
                           "running out of memory, or a crash inside a library")
    if status == "skipped":
        return "skipped", (f"{fn} was not checked again because an earlier check of it "
                           f"{'hung' if obs.get('reason') == 'timeout' else 'crashed'}")
    if status != "error":
        return "error", f"{fn}: no usable result was recorded"
    kind, exc_type = obs.get("kind"), str(obs.get("exc_type", "?"))[:80]
    message = str(obs.get("message", ""))[:300]
    if kind == "missing":
        return "missing", (f"{message}: the assignment asks for a function named {fn}; keep its name "
                           "and its answer cell")
    if kind == "student" and exc_type == "NotImplementedError":
        return "not_implemented", (f"{fn} is not implemented yet: replace `raise NotImplementedError()` "
                                   "in its answer cell with your code")
    if kind == "answer_type":
        return "wrong", f"{fn}: {message}"
    hint = hint_for(exc_type, message)
    if kind == "student":
        where = obs.get("where") or []
        text = f"{fn} raised {exc_type}"
        if not check.hidden:
            text += f": {message}" if message else ""
            if where and isinstance(where[-1], str):
                text += f" (at {where[-1][:120]})"
    else:  # an exception in the probe itself: usually the answer's value broke it
        text = f"using the value {fn} returned raised {exc_type}"
        if not check.hidden and message:
            text += f": {message}"
    return "error", text + (f". Likely cause: {hint}" if hint else "")


def _matching_mistake(check: Check, actual: dict, mistakes: list) -> str | None:
    """The message of a known mistake whose values the student's answer reproduces."""
    for message, observation in mistakes:
        if not observation or observation.get("status") != "ok":
            continue
        try:
            wrong = decode_values(observation)
        except DecodeError:
            continue
        if all(rule.matches(actual, wrong) for rule in check.rules):
            return message
    return None


def judge_check(check: Check, obs: dict | None, reference: dict, mistakes: list = ()) -> CheckResult:
    def result(passed: bool, outcome: str, message: str) -> CheckResult:
        return CheckResult(check.id, check.exercise, check.points if passed else 0.0, check.points,
                           passed, check.hidden, message, outcome)

    if obs is None or obs.get("status") != "ok":
        outcome, message = _failure(check, obs)
        return result(False, outcome, message)
    try:
        actual = decode_values(obs)
    except DecodeError as exc:
        return result(False, "error", f"`{check.exercise}`: the recorded answer could not be read ({exc})")
    expected = decode_values(reference)
    for rule in check.rules:
        problem = rule.judge(actual, expected, check.hidden)
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
