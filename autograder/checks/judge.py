"""Judging (trusted, in the grading process): observations -> check results.

Each check's recorded values are decoded from plain data, completed by the check's
``derive`` (values the judge computes itself from recorded artefacts: a graph, a
model's weights), and compared with the reference solution's values by the check's
rules. A check passes only on an ``ok`` observation that every rule accepts: a
missing, forged-away, crashed or undecodable observation is a failed check, never a
pass, and nothing a student can record makes the judge itself fail.

Everything in an observation is treated as student-controlled (the student's code
runs in the process that records it, and can write to its channel). A public check's
message may quote it: the run of the public checks never held a hidden input. A
hidden check's message is one fixed text per outcome (:data:`HIDDEN_MESSAGES`): no
exception message or class name, no value, no hint or known mistake picked by what
the student's code did with the hidden input. That choice is made here only: the rules
(:mod:`autograder.checks.rules`) say what is wrong, never knowing whether a check is hidden.
A failing public check's message also says its inputs (:mod:`autograder.checks.inputs`) and,
for a check that declares ``swappable``, when the answer gives exactly the solution's values on
those two inputs exchanged (after the catalogue, which comes first).

Observations come in typed (:class:`~autograder.sandbox.events.Observation`); a
reference's, read from a document, in their plain form, made typed here. Results go out
as :class:`~autograder.result.CheckOutcome`, the one check-result type from here to the
JSON; their ``outcome`` is an :class:`~autograder.result.Outcome`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from autograder.checks.artefacts import ArtefactError, work_budget
from autograder.checks.diagnosis import all_swapped, swapped_inputs
from autograder.checks.hints import hint_for
from autograder.checks.inputs import inputs_text
from autograder.checks.plaindata import DecodeError, decode, decode_budget
from autograder.result import CheckOutcome, Outcome
from autograder.checks.rules import NAMED as _NAMED
from autograder.checks.rules import Rule, named
from autograder.sandbox.events import Fault, Observation, StepStatus
from autograder.checks.spec import Check

# One text per outcome for every failed hidden check ({fn}: the exercise's function).
HIDDEN_MESSAGES = {
    Outcome.WRONG: "{fn} gave a wrong answer for a hidden input (a value, a shape or a dtype differs from the "
             "reference's): try your function on other inputs and on the edge cases the exercise mentions",
    Outcome.ERROR: "{fn} raised an exception for a hidden input",
    Outcome.NOT_IMPLEMENTED: "{fn} is not implemented yet: replace `raise NotImplementedError()` in its answer cell "
                       "with your code",
    Outcome.MISSING: "{fn} could not be checked with a hidden input: it is not defined, or the notebook stopped "
               "before this check; keep the function's name and its answer cell",
    Outcome.TIMEOUT: "{fn} did not finish in time for a hidden input: look for an infinite loop or a very long "
               "computation",
    Outcome.CRASHED: "calling {fn} with a hidden input ended the Python process (e.g. sys.exit, os._exit, running "
               "out of memory, or a crash inside a library)",
    Outcome.SKIPPED: "{fn} was not checked with hidden inputs because an earlier check of it hung or crashed",
    Outcome.SYNTAX: "{fn} could not be checked: its answer cell has a syntax error (its public checks say where)",
}

SYNTAX_ERRORS = ("SyntaxError", "IndentationError", "TabError")


class JudgeBudgetExceeded(Exception):
    """A check's ``derive`` ran out of its work budget: the check fails with this message."""


def decode_values(observation: Observation | dict) -> dict:
    values = Observation.of(observation).values
    if not isinstance(values, dict):
        raise DecodeError("no values")
    try:
        budget = decode_budget()  # one for the whole observation, not one per value
        return {str(k): decode(v, 0, budget) for k, v in values.items()}
    except DecodeError:
        raise
    except (RecursionError, ValueError, TypeError, OverflowError, MemoryError) as exc:
        raise DecodeError(f"unreadable value ({type(exc).__name__})") from None


def _failure(check: Check, obs: Observation | None) -> tuple[Outcome, str]:
    """(outcome, public message) for an observation that is not a clean recording."""
    fn = f"`{check.exercise}`"
    if obs is None:
        return Outcome.MISSING, f"{fn} was not checked: the notebook stopped before this check ran"
    if obs.status is StepStatus.TIMEOUT:
        return Outcome.TIMEOUT, _timeout_message(fn, obs)
    if obs.status is StepStatus.CRASHED:
        return Outcome.CRASHED, (f"calling {fn} ended the Python process ({obs.detail[:100]}); e.g. sys.exit, "
                                 "os._exit, running out of memory, or a crash inside a library")
    if obs.status is StepStatus.SKIPPED:
        return Outcome.SKIPPED, (f"{fn} was not checked again because an earlier check of it "
                                 f"{'hung' if obs.reason is StepStatus.TIMEOUT else 'crashed'}")
    if obs.status is not StepStatus.ERROR:
        return Outcome.ERROR, f"{fn}: no usable result was recorded"
    return _error(fn, obs)


def _timeout_message(fn: str, obs: Observation) -> str:
    limit, took = obs.limit_s, obs.reference_s
    scope = "the whole submission" if obs.whole_submission else "this check"
    shown = limit is not None
    took_shown = took is not None and shown
    return (f"{fn} did not finish within the time limit for {scope}"
            + (f" ({limit:g} s" + (f"; the reference solution takes {took:.2g} s" if took_shown
                                   else "") + ")" if shown else "")
            + ": look for an infinite loop or a very long computation")


def _error(fn: str, obs: Observation) -> tuple[Outcome, str]:
    """(outcome, public message) of an ERROR observation, by whose error it was."""
    kind, exc_type, message = obs.kind, obs.exc_type[:80], obs.message[:300]
    if kind is Fault.PROTOCOL:
        return Outcome.ERROR, (f"{fn}: the answer wrote to the grader's event channel (or broke its order of "
                               "events), so what this check recorded cannot be trusted")
    if kind is Fault.MALFORMED:
        return Outcome.ERROR, f"{fn}: the recorded answer could not be read"
    if kind is Fault.MISSING:
        return Outcome.MISSING, (f"{message}: the assignment asks for a function named {fn}; keep its name "
                                 "and its answer cell")
    if kind is Fault.STUDENT and exc_type == "NotImplementedError" and obs.origin != "library":
        return Outcome.NOT_IMPLEMENTED, (f"{fn} is not implemented yet: replace `raise NotImplementedError()` "
                                         "in its answer cell with your code")
    if kind is Fault.ANSWER_TYPE:
        return Outcome.WRONG, f"{fn}: {message}"
    hint = hint_for(exc_type, message)
    if kind is Fault.STUDENT:
        text = f"{fn} raised {exc_type}" + (f": {message}" if message else "")
        if obs.where:
            text += f" (at {obs.where[-1][:120]})"
    else:  # an exception in the probe itself: usually the answer's value broke it
        text = f"using the value {fn} returned raised {exc_type}" + (f": {message}" if message else "")
    return Outcome.ERROR, text + (f". Likely cause: {hint}" if hint else "")


def _with_derived(check: Check, values: dict) -> dict:
    """``values`` with what the check's ``derive`` computes from them (it wins over recorded values)."""
    if check.derive is None:
        return values
    with work_budget() as budget:  # bounded, whatever the artefacts (see autograder.checks.artefacts)
        try:
            derived = check.derive(values, *check.args)
        except ArtefactError:
            if not budget.exceeded:
                raise
            derived = None
    if budget.exceeded:  # even where derive caught it: the answer was not judged in full
        raise JudgeBudgetExceeded(f"judging the recorded answer needs more computation than the exercise "
                                  f"ever does (the grader stops at {budget.limit:,} operations per check): "
                                  "build only what the exercise asks for")
    if not isinstance(derived, dict):
        raise TypeError(f"{check.id}: derive must return a dict")
    return {**values, **derived}


def reference_values(check: Check, observation: Observation | dict) -> dict:
    """The values of a reference-side observation (the solution's, a known mistake's), derived
    here; a released public reference holds them derived already (``"derived": true``: the
    values the rules read, never the artefacts they came from, such as trained networks)."""
    observation = Observation.of(observation)
    values = decode_values(observation)
    return values if observation.derived else _with_derived(check, values)


def _matching_mistakes(check: Check, actual: dict, expected: dict, mistakes: list) -> list[str]:
    """The messages of the known mistakes the student's answer reproduces.

    Matched per rule: a mistake is named when the answer has its values wherever the mistake
    differs from the reference (and passes the check's properties against it as before), so
    an answer with two mistakes in different values (a dict answer's `mod` and `round`) gets
    both named."""
    from autograder.checks.rules import Property

    found: list[str] = []
    for message, plain in mistakes:
        observation = Observation.of(plain)
        if observation is None or observation.status is not StepStatus.OK or message in found:
            continue
        try:
            wrong = reference_values(check, observation)
            values = [r for r in check.rules if not isinstance(r, Property)]
            broken = [r for r in values if r.judge(wrong, expected) is not None]
            if values and not broken:
                continue  # the mistake gives the reference's values here: nothing to recognise
            properties = [r for r in check.rules if isinstance(r, Property)]
            if all(r.matches(actual, wrong) for r in broken + properties):
                found.append(message)
        except Exception:  # noqa: BLE001 - an answer of odd types matches no known mistake
            continue
    return found


def _breaks_on_reference(rule: Rule, expected: dict) -> bool:
    """Whether a rule fails to judge the reference against itself (a bug in the check, not the answer)."""
    try:
        rule.judge(expected, expected)
    except Exception:  # noqa: BLE001
        return True
    return False


def _swap_explains(rule: Rule, actual: dict, expected: dict, swapped: dict) -> bool:
    """Whether a failing value is, within the rule, the reference's on the swapped inputs (a value
    that is NaN or infinite throughout says nothing: many mistakes give one)."""
    try:
        value = swapped.get(getattr(rule, "key", ""))
        if isinstance(value, (int, float, list, tuple, np.ndarray)) and not isinstance(value, bool):
            numbers = np.asarray(value, dtype=np.float64)
            if numbers.size and not np.any(np.isfinite(numbers)):
                return False
        return rule.judge(actual, swapped) is None and rule.judge(swapped, expected) is not None
    except Exception:  # noqa: BLE001 - values of odd types: no diagnosis
        return False


def _swap_diagnosis(check: Check, failing: list[tuple[Rule, str]], actual: dict, expected: dict,
                    swapped: dict | None) -> tuple[str, list[str]]:
    """(a sentence for the whole answer, or "", the problems) where the failing values are the
    reference solution's on the check's swapped inputs: said of the whole answer when every failing
    value is, else of each value that is, in place of what the numbers alone said of it (the swap
    accounts for every value; a transform may account for some, as NaN where 0 is expected)."""
    problems = [problem for _, problem in failing]
    if not swapped or check.hidden:
        return "", problems
    try:
        values = reference_values(check, swapped["observation"])
        names = list(swapped["names"])
    except Exception:  # noqa: BLE001 - a damaged swapped reference says nothing
        return "", problems
    explained = [_swap_explains(rule, actual, expected, values) for rule, _ in failing]
    if len(failing) > 1 and all(explained):
        return all_swapped(names), problems
    return "", [named(p.split(_NAMED, 1)[0], swapped_inputs(names)) if hit else p
                for p, hit in zip(problems, explained)]


def _verdict(check: Check, obs: Observation | None, reference: Observation | dict,
             mistakes: list, swapped: dict | None = None) -> tuple[bool, Outcome, str]:
    """(passed, outcome, public message). Raises only when the check itself is broken."""
    if obs is None or obs.status is not StepStatus.OK:
        return (False, *_failure(check, obs))
    fn = f"`{check.exercise}`"
    expected = reference_values(check, reference)  # the reference must derive: else a bug
    try:
        actual = _with_derived(check, decode_values(obs))
    except DecodeError as exc:
        return False, Outcome.ERROR, f"{fn}: the recorded answer could not be read ({exc})"
    except JudgeBudgetExceeded as exc:
        return False, Outcome.ERROR, f"{fn}: {exc}"
    except Exception as exc:  # noqa: BLE001 - artefacts of odd shapes or types
        return False, Outcome.ERROR, f"{fn}: the recorded answer could not be judged ({type(exc).__name__})"
    failing: list[tuple[Rule, str]] = []
    for rule in check.rules:  # every failing rule: a dict answer learns of each wrong key at once
        try:
            problem = rule.judge(actual, expected)
        except Exception as exc:  # noqa: BLE001 - e.g. a property meeting a forged value of another type
            if _breaks_on_reference(rule, expected):
                raise  # the check itself is broken: a grader error, never a student's zero
            return False, Outcome.ERROR, (f"{fn}: the recorded answer has values of the wrong type or structure "
                                    f"and could not be judged ({type(exc).__name__}: {str(exc)[:200]})")
        if problem:
            failing.append((rule, problem))
    if failing:
        known = [] if check.hidden else _matching_mistakes(check, actual, expected, mistakes)
        diagnosis = (f"Likely mistake: {known[0]}. " if len(known) == 1 else
                     "Likely mistakes: " + "; ".join(known) + ". " if known else "")
        problems = [problem for _, problem in failing]
        if not known:  # the catalogue first; else what the swapped inputs give, exactly
            whole, problems = _swap_diagnosis(check, failing, actual, expected, swapped)
            diagnosis = f"{whole[0].upper()}{whole[1:]}. " if whole else ""
        return False, Outcome.WRONG, f"{fn}: {diagnosis}" + "; ".join(problems)  # diagnosis first, numbers second
    return True, Outcome.PASSED, "passed" + (f": {check.explain}" if check.explain and not check.hidden else "")


def syntax_problem(source: str) -> str | None:
    """How an answer cell's source fails to compile ("a SyntaxError on line 3: ..."), or None.

    The same words in the grader (from the submission's cell) and in a student's kernel
    (from its input history): compiled, never run, with IPython's transformations of magics."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - no IPython, or a cell it cannot transform: compile as it is
        pass
    try:
        compile(source, "<answer cell>", "exec")
    except (SyntaxError, ValueError) as exc:
        if not isinstance(exc, SyntaxError):
            return f"a {type(exc).__name__}: {str(exc)[:200]}"
        text = (exc.text or "").strip()
        return (f"a {type(exc).__name__} on line {exc.lineno}: {exc.msg}"
                + (f" (`{text[:120]}`)" if text else ""))
    return None


def defines(source: str, exercise: str) -> bool:
    """Whether a cell's source (likely) holds the exercise's function, even one that does not compile."""
    return f"def {exercise}(" in source


def syntax_message(exercise: str, problem: str) -> str:
    return (f"`{exercise}` could not be checked: its answer cell has {problem}. Fix it and run the cell "
            "again; the checks run once the cell runs without an error")


def judge_check(check: Check, obs: Observation | dict | None, reference: Observation | dict,
                mistakes: list = (), syntax: str | None = None, swapped: dict | None = None) -> CheckOutcome:
    """``syntax``: the exercise's answer cell does not compile (see :func:`syntax_problem`);
    ``swapped``: the reference's ``{"names", "observation"}`` on the check's swapped inputs.
    A hidden check that fails gets its outcome's fixed text (:data:`HIDDEN_MESSAGES`); a public
    one that gives a wrong value or raises says its inputs too."""
    obs = Observation.of(obs)
    if syntax is not None and (obs is None or obs.status is not StepStatus.OK):
        passed, outcome, message = False, Outcome.SYNTAX, syntax_message(check.exercise, syntax)
    else:
        passed, outcome, message = _verdict(check, obs, reference, mistakes, swapped)
    if check.hidden and not passed:
        message = HIDDEN_MESSAGES[outcome].format(fn=f"`{check.exercise}`")
    elif not passed and outcome in SHOWS_INPUTS:
        message = with_inputs(check, message)
    return CheckOutcome(id=check.id, exercise=check.exercise, name="", points=check.points if passed else 0.0,
                        max_points=check.points, passed=passed, hidden=check.hidden, message=message,
                        outcome=outcome)


# Public outcomes whose message says the check's inputs: the answer ran on them and went wrong.
SHOWS_INPUTS = (Outcome.WRONG, Outcome.ERROR)


def with_inputs(check: Check, message: str) -> str:
    """A public check's message with its inputs beside the values (see :mod:`autograder.checks.inputs`)."""
    try:
        shown = inputs_text(check.parameters(), check.args)
    except Exception:  # noqa: BLE001 - a probe without a readable signature: the message as it is
        shown = ""
    return f"{message}. The check's inputs: {shown}" if shown else message


def judge_all(checks: list[Check], observations: dict[str, Observation], references: dict,
              syntax: dict[str, str] | None = None) -> list[CheckOutcome]:
    """``references`` as made by :func:`autograder.runs.reference.compute_references`;
    ``syntax``: exercise -> how its answer cell fails to compile.

    Each result gets the name students see: a public check's own, and "hidden 1",
    "hidden 2"... within its exercise for a hidden check (its name may describe its
    inputs) unless its author set ``name_shown``."""
    out = []
    hidden_count: dict[str, int] = {}
    siblings: list[tuple[Check, CheckOutcome]] = []
    for c in checks:
        known = [(m["message"], m["checks"].get(c.id)) for m in references.get("mistakes", {}).values()
                 if m.get("exercise") == c.exercise]
        result = judge_check(c, observations.get(c.id), references["checks"][c.id], known,
                             (syntax or {}).get(c.exercise), (references.get("swapped") or {}).get(c.id))
        if c.sibling_of:
            siblings.append((c, result))
            if not c.points:
                continue  # judged for its public check only (see with_siblings)
        if c.hidden and not c.name_shown:
            hidden_count[c.exercise] = hidden_count.get(c.exercise, 0) + 1
            out.append(replace(result, name=f"hidden {hidden_count[c.exercise]}"))
        else:
            out.append(replace(result, name=c.name))
    return with_siblings(out, siblings)


# Outcomes of a sibling that cost its public check its points: the answer computes something
# else than the published example shows (a timeout or a crash says nothing of that).
SIBLING_FAILURES = {Outcome.WRONG: "gives a wrong answer", Outcome.ERROR: "raises an exception",
                    Outcome.NOT_IMPLEMENTED: "is not implemented"}


def with_siblings(results: list[CheckOutcome], siblings: list[tuple[Check, CheckOutcome]]) -> list[CheckOutcome]:
    """``results`` where a public check that passed earns nothing when its unpublished sibling
    (``Check.sibling_of``) fails: the answer matches the published example only. The message
    names no input and no value of the sibling."""
    at = {r.id: i for i, r in enumerate(results)}
    out = list(results)
    for check, sibling in siblings:
        i = at.get(f"{check.exercise}.{check.sibling_of}")
        public = None if i is None else out[i]
        if public is None or public.hidden or not public.passed or sibling.outcome not in SIBLING_FAILURES:
            continue
        out[i] = replace(public, passed=False, points=0.0, outcome=Outcome.WRONG, message=(
            f"`{check.exercise}` matches the published example only: on another input of the same kind, which "
            f"is not published, it {SIBLING_FAILURES[sibling.outcome]}, so this check earns no points. Compute "
            "the result from the function's arguments"))
    return out
