"""Typed records end to end, and hidden wording in the judge alone (fast: no sandbox).

* Outcome words (how a step or a check ended) are spelled once, in their enums'
  modules (:mod:`autograder.result`, :mod:`autograder.sandbox.events`); every other
  module names the members. Message text (f-strings, docstrings) may use the words.
* What a run gives back holds typed records, not plain dicts, and a check's result is
  one type from the judge to the JSON.
* The rules never know whether a check is hidden: the judge alone picks hidden wording.
"""

import ast
import dataclasses
import inspect
import typing
from pathlib import Path

import autograder

PACKAGE = Path(autograder.__file__).parent
ENUM_MODULES = {"result.py", "sandbox/events.py"}
# Django's configuration: its database OPTIONS has a "timeout" (seconds to wait for a lock), no outcome.
NOT_OUTCOMES = {"service/settings.py"}
OUTCOME_WORDS = {"timeout", "total_timeout", "crashed", "protocol", "skipped", "malformed", "not_implemented",
                 "answer_type", "infrastructure"}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), path


def _words_outside_messages(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants that are one outcome word, outside f-strings (message text)."""
    inside_fstring = {id(n) for j in ast.walk(tree) if isinstance(j, ast.JoinedStr) for n in ast.walk(j)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in OUTCOME_WORDS
            and id(node) not in inside_fstring]


def test_outcome_words_are_spelled_only_in_their_enums_modules():
    found = {name: hits for name, path in _modules() if name not in ENUM_MODULES | NOT_OUTCOMES
             for hits in [_words_outside_messages(ast.parse(path.read_text(encoding="utf-8")))] if hits}
    assert not found, f"use the enums of autograder.result / autograder.sandbox.events: {found}"


def test_the_rules_never_mention_hidden_checks():
    source = (PACKAGE / "checks" / "rules.py").read_text(encoding="utf-8")
    assert "hidden" not in source.lower(), "rules say what is wrong; the judge alone decides hidden wording"
    from autograder.checks.rules import Rule

    assert list(inspect.signature(Rule.judge).parameters) == ["self", "actual", "expected"]


def test_a_run_record_holds_typed_observations_and_cells():
    from autograder.sandbox.base import RunRecord
    from autograder.sandbox.events import CellRecord, Observation, StepStatus

    hints = typing.get_type_hints(RunRecord)
    assert hints["observations"] == dict[str, Observation] and hints["cells"] == dict[int, CellRecord]
    record = RunRecord(observations={"f.a": {"status": "timeout", "scope": "submission", "limit_s": 3}},
                       cells={0: {"status": "ok"}})   # the plain form is converted when the record is made
    obs, cell = record.observations["f.a"], record.cells[0]
    assert isinstance(obs, Observation) and obs.status is StepStatus.TIMEOUT and obs.whole_submission
    assert isinstance(cell, CellRecord) and cell.status is StepStatus.OK
    assert Observation.of(obs.plain()) == obs


def test_one_check_result_type_from_the_judge_to_the_json():
    import autograder.checks.judge as judge
    from autograder.result import CheckOutcome, Outcome
    from autograder.checks.rules import Close
    from autograder.checks.spec import Check

    assert not hasattr(judge, "CheckResult")
    assert typing.get_type_hints(judge.judge_all)["return"] == list[CheckOutcome]
    check = Check("f", "c", probe=lambda s: {}, rules=[Close("v")])
    result = judge.judge_check(check, {"status": "timeout"}, {"status": "ok", "values": {"v": 1.0}})
    assert isinstance(result, CheckOutcome) and result.outcome is Outcome.TIMEOUT
    assert dataclasses.is_dataclass(result) and result.__dataclass_params__.frozen


def test_a_process_attempt_is_a_typed_value_returned_not_a_dict_filled_in():
    from autograder.sandbox.process import Attempt, ProcessSandbox

    for method in (ProcessSandbox._attempt, ProcessSandbox._read_events):
        hints = typing.get_type_hints(method)
        assert hints["return"] is Attempt, method.__name__
        assert dict not in hints.values(), method.__name__
