"""Hidden checks' feedback carries nothing the student's code chose.

The student's function receives a hidden check's inputs, so anything the judge could
echo from its recording (exception types and messages, returned strings, shapes,
lengths, class names, exit statuses, counts, errors against the reference, which
hint or known mistake matches) could carry them out. A failed hidden check's message
is therefore one fixed text per outcome (judge.HIDDEN_MESSAGES). Each test below
builds a hostile recording by hand with a sentinel in one channel, and asserts that
the hidden message is exactly the fixed text while a public check's message, for the
very same recording, still shows the detail (the rich public feedback is unchanged,
and the test could fail). Fast: no sandbox, no TensorFlow.
"""

import dataclasses

import numpy as np
import pytest

from autograder.assignments.course import find_assignment
from autograder.checks.judge import HIDDEN_MESSAGES, judge_all, judge_check
from autograder.checks.plaindata import encode
from autograder.checks.rules import Close, Equal, Property, SameShape
from autograder.checks.spec import Check

SENTINELS = ("LEAK", "987001")


def check(rules=(), hidden=True, exercise="f"):
    return Check(exercise, "c", probe=lambda s: {}, rules=list(rules), hidden=hidden)


def ok(**values):
    return {"status": "ok", "values": {k: encode(v) for k, v in values.items()}}


def both(rules, obs, reference, outcome):
    """(hidden message, public message) for one recording: the hidden one is the fixed text."""
    hidden = judge_check(check(rules, hidden=True), obs, reference)
    public = judge_check(check(rules, hidden=False), obs, reference)
    assert not hidden.passed and not public.passed
    assert hidden.outcome == public.outcome == outcome
    assert hidden.message == HIDDEN_MESSAGES[outcome].format(fn="`f`")
    for needle in SENTINELS:
        assert needle not in hidden.message
    return hidden.message, public.message


# ------------------------------------------------------------------ failures (judge._failure)


def test_student_exception_type_message_and_line():
    obs = {"status": "error", "kind": "student", "exc_type": "LEAK_987001_1p5",
           "message": "LEAK inputs=[987001]", "where": ["line 3: raise LEAK_987001_1p5()"]}
    hidden, public = both([], obs, {}, "error")
    assert hidden == "`f` raised an exception for a hidden input"
    assert public == "`f` raised LEAK_987001_1p5: LEAK inputs=[987001] (at line 3: raise LEAK_987001_1p5())"


@pytest.mark.parametrize("name", ["ValueError", "ZeroDivisionError", "KeyError", "SystemExit",
                                  "InvalidArgumentError", "LEAKError", "print", ""])
def test_no_exception_class_is_named_for_a_hidden_input(name):
    """About 86 builtin and TensorFlow names would carry ~6 bits per hidden check: none is shown."""
    obs = {"status": "error", "kind": "student", "exc_type": name, "message": "m"}
    assert judge_check(check(), obs, {}).message == "`f` raised an exception for a hidden input"
    assert judge_check(check(hidden=False), obs, {}).message.startswith(f"`f` raised {name}")


def test_exception_in_the_probe():
    obs = {"status": "error", "kind": "probe", "exc_type": "LEAK_987001", "message": "LEAK 987001",
           "where": ["line 1: x"]}
    _, public = both([], obs, {}, "error")
    assert public == "using the value `f` returned raised LEAK_987001: LEAK 987001"


def test_hints_are_given_for_public_checks_only():
    obs = {"status": "error", "kind": "student", "exc_type": "LEAK_987001",
           "message": "You must feed a value for placeholder tensor 'LEAK_987001'"}
    _, public = both([], obs, {}, "error")
    assert "LEAK_987001" in public and "Likely cause: a placeholder was not fed" in public


def test_wrong_answer_type_from_a_probe():
    obs = {"status": "error", "kind": "answer_type", "exc_type": "WrongAnswerType",
           "message": "f should return a tuple of 3 values, got LEAK987001 of length 987001"}
    _, public = both([], obs, {}, "wrong")
    assert public == "`f`: f should return a tuple of 3 values, got LEAK987001 of length 987001"


@pytest.mark.parametrize("detail", ["killed by signal 987001", "exit status 987001", "recorded value too large",
                                    "LEAK 987001"])
def test_crash_exit_status_and_signal(detail):
    _, public = both([], {"status": "crashed", "detail": detail}, {}, "crashed")
    assert public.startswith(f"calling `f` ended the Python process ({detail}); e.g. sys.exit")


def test_timeout_limit_from_the_recording():
    _, public = both([], {"status": "timeout", "limit_s": 987001, "detail": "LEAK"}, {}, "timeout")
    assert "(987001 s)" in public


def test_missing_function_message():
    obs = {"status": "error", "kind": "missing", "exc_type": "MissingFunction",
           "message": "`LEAK_987001` is not defined"}
    _, public = both([], obs, {}, "missing")
    assert public.startswith("`LEAK_987001` is not defined")


def test_undecodable_and_out_of_range_recordings():
    for value in ({"t": "LEAK_987001"}, {"t": "int", "v": 10 ** 400}, {"t": "list", "items": "LEAK"}):
        _, public = both([Close("v")], {"status": "ok", "values": {"v": value}}, ok(v=1.0), "error")
        assert "could not be read" in public


def test_protocol_and_malformed_recordings():
    _, public = both([], {"status": "error", "kind": "protocol", "detail": "LEAK"}, {}, "error")
    assert "event channel" in public
    _, public = both([], {"status": "error", "kind": "malformed"}, {}, "error")
    assert "could not be read" in public


def test_skipped_not_implemented_and_missing_observations():
    assert judge_check(check(), {"status": "skipped", "reason": "LEAK"}, {}).message == \
        HIDDEN_MESSAGES["skipped"].format(fn="`f`")
    stub = {"status": "error", "kind": "student", "exc_type": "NotImplementedError", "message": "LEAK"}
    assert judge_check(check(), stub, {}).message.startswith("`f` is not implemented yet")
    assert judge_check(check(), None, {}).outcome == "missing"


# ------------------------------------------------------------------ rules


@pytest.mark.parametrize("rules, actual, expected, words", [
    ([Close("v", label="the result")], np.zeros(987001, np.int8), np.zeros(4), "expected shape (4,), got (987001,)"),
    ([Close("v")], {"t": "object", "type": "__main__.LEAK987001"}, np.zeros(3), "expected numbers"),
    ([Close("v", dtype="float32")], np.zeros(3, np.int16), np.zeros(3, np.float32), "got int16"),
    ([Close("v", scalar=True)], np.zeros(987001, np.int8), 2.0, "(987001,)"),
    ([Close("v")], np.full(4321, np.nan), np.zeros(4321), "NaN at 4321 position(s)"),
    ([Close("v")], np.array([98.25, 1.0]), np.array([12.5, 1.0]), "expected [12.5,  1. ]"),
    ([SameShape("W")], np.zeros(987001, np.int8), np.zeros((2, 1)), "expected shape (2, 1), got (987001,)"),
    ([Equal("v")], ["LEAK 987001"], ["int32"], "got ['LEAK 987001']"),
    ([Property(lambda a, e: f"you returned {a['v']}")], "LEAK 987001", 1.0, "you returned LEAK 987001"),
])
def test_every_rule_failure_has_the_one_hidden_text(rules, actual, expected, words):
    obs = {"status": "ok", "values": {"v": actual}} if isinstance(actual, dict) and "t" in actual else ok(v=actual)
    if isinstance(rules[0], SameShape):
        obs, reference = ok(W=actual), ok(W=expected)
    else:
        reference = ok(v=expected)
    _, public = both(rules, obs, reference, "wrong")
    assert words in public


def test_a_known_mistake_is_named_for_public_checks_only():
    def results(hidden):
        c = check([Close("value", scalar=True)], hidden=hidden)
        refs = {"checks": {c.id: ok(value=7.5)},
                "mistakes": {"m": {"exercise": "f", "message": "the bias is missing", "checks": {c.id: ok(value=6.0)}}}}
        return judge_all([c], {c.id: ok(value=6.0)}, refs)[0]

    assert results(False).message.startswith("`f`: Likely mistake: the bias is missing. `value`: ")
    assert results(True).message == HIDDEN_MESSAGES["wrong"].format(fn="`f`")


def test_a_rule_raising_on_the_answer_fails_the_check():
    def strict(actual, expected, hidden=False):
        return None if float(actual["v"]) == expected["v"] else "wrong"

    _, public = both([Property(strict)], ok(v="LEAK 987001"), ok(v=1.0), "error")
    assert "could not be judged (ValueError: could not convert string to float: 'LEAK 987001')" in public


def test_a_rule_raising_on_the_reference_is_a_grader_error():
    with pytest.raises(ValueError, match="not numeric"):
        judge_check(check([Close("v")]), ok(v=1.0), ok(v="a string"))


def test_derived_values_replace_recorded_ones_and_a_broken_artefact_fails_the_check():
    """What derive computes wins over a value of the same name the student's process recorded."""
    def derive(values, *args):
        return {"v": float(np.sum(values["parts"]))}

    c = Check("f", "c", probe=lambda s: {}, rules=[Close("v")], derive=derive)
    reference = ok(parts=np.array([1.0, 2.0]))
    assert judge_check(c, ok(parts=np.array([1.0, 2.0]), v=99.0), reference).passed
    forged = judge_check(c, ok(parts=np.array([5.0, 5.0]), v=3.0), reference)
    assert not forged.passed and forged.outcome == "wrong"
    broken = judge_check(c, ok(v=3.0), reference)
    assert not broken.passed and broken.outcome == "error" and "could not be judged (KeyError)" in broken.message


# ------------------------------------------------------------------ hidden names


def test_hidden_check_names_are_neutral_unless_marked_shown():
    checks = [Check("f", "public", probe=lambda s: {}), Check("f", "huge_scores", probe=lambda s: {}, hidden=True),
              Check("f", "short_last_batch", probe=lambda s: {}, hidden=True),
              Check("f", "another_seed", probe=lambda s: {}, hidden=True, name_shown=True),
              Check("g", "edge", probe=lambda s: {}, hidden=True)]
    refs = {"checks": {c.id: ok() for c in checks}}
    names = [r.name for r in judge_all(checks, {}, refs)]
    assert names == ["public", "hidden 1", "hidden 2", "another_seed", "hidden 1"]


# ------------------------------------------------------------------ the whole course

COURSE = ["01_tf_basics", "02_linear_classifier", "03_deep_network"]


def hostile_values():
    yield {"t": "object", "type": "__main__.LEAK987001", "info": {"dims": [987001]}}
    yield {"t": "toolarge", "type": "LEAK", "shape": [987001]}
    yield {"t": "int", "v": 10 ** 400}
    yield encode(np.zeros(98701, np.int8))
    yield encode(np.full((3, 1), 987001.0))
    yield encode(np.full(3, np.nan))
    yield encode("LEAK 987001")
    yield encode(["LEAK987001", 987001])
    yield encode(987001)
    yield encode({"LEAK": 987001, "layers": "LEAK"})
    yield encode([{"kind": "Dense", "units": 987001, "weights": [np.zeros((2, 9871))]}])
    yield encode(None)


@pytest.mark.parametrize("name", COURSE)
def test_no_check_of_the_course_fails_to_judge_or_quotes_a_hostile_value_when_hidden(name):
    """Every check, every recorded value replaced by hostile ones in turn: judging never raises,
    a failed hidden check has its fixed text, and a public one fails (or passes) without a
    grader error. The reference of a public check with the same probe stands in for a
    hidden check's reference."""
    assignment = find_assignment(name)
    refs = assignment.load_public_reference()["checks"]
    checks = assignment.checkset(hidden=True).checks
    judged = 0
    for c in checks:
        sibling = next(p for p in checks if not p.hidden and p.exercise == c.exercise
                       and p.probe_name == c.probe_name)
        reference = refs[sibling.id]
        for key in reference["values"]:
            for value in hostile_values():
                obs = {"status": "ok", "values": {**reference["values"], key: value}}
                for hidden in (True, False):
                    result = judge_check(dataclasses.replace(c, hidden=hidden,
                                                             args=sibling.args if not hidden else c.args),
                                         obs, reference)
                    if hidden and not result.passed:
                        assert result.message == HIDDEN_MESSAGES[result.outcome].format(fn=f"`{c.exercise}`")
                    judged += 1
    assert judged > 200
