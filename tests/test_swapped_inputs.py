"""A public check's swapped inputs and its inputs beside a failing value (fast: no TensorFlow).

A check that declares ``swappable=(a, b)`` gets, from the reference run, the solution's values on
those two inputs exchanged (public checks only); the judge names an answer that gives exactly
those values. Every failing public check says its inputs; a hidden check never does. The real
runs of the course's swapped-input mistakes are in tests/test_diagnosis_corpus.py.
"""

import dataclasses

import numpy as np
import pytest

from autograder.assignments.course import find_assignment
from autograder.assignments.student_files import releasable
from autograder.checks.inputs import inputs_text, short
from autograder.checks.judge import HIDDEN_MESSAGES, judge_all, judge_check
from autograder.checks.plaindata import encode
from autograder.checks.problems import CheckFileError, validate_module
from autograder.checks.rules import Close, Property
from autograder.checks.spec import Check, sibling, swapped_id
from autograder.errors import SolutionFailsChecks
from autograder.runs.job_builder import build_job
from autograder.runs.reference import compute_references
from autograder.sandbox.worker import swapped_check
from tests import fakes

SWAPPED_WORDS = "is what the reference solution gives with `labels` and `z` swapped"
WHOLE_WORDS = "Your function gives what the reference solution gives with `labels` and `z` swapped"


def loss_probe(student, labels, z):
    return {"cost": student.loss(labels, z)}


def ok(**values):
    return {"status": "ok", "values": {k: encode(np.asarray(v, dtype=np.float64)) for k, v in values.items()}}


def loss_check(rules=(Close("cost", scalar=True),), hidden=False):
    return Check("loss", "example", loss_probe, ([1.0, 0.0], [2.0, -1.0]), list(rules), hidden=hidden,
                 swappable=("labels", "z"))


def swapped(**values):
    return {"names": ["labels", "z"], "observation": ok(**values)}


# ---------------------------------------------------------------- the judge names a swap exactly


def test_a_value_that_is_the_solutions_on_the_swapped_inputs_is_named_with_the_inputs():
    result = judge_check(loss_check(), ok(cost=2.5128), ok(cost=41.4143), swapped=swapped(cost=2.5128))
    assert not result.passed and SWAPPED_WORDS in result.message
    assert "check the order of `labels` and `z` where your code uses them" in result.message
    assert result.message.endswith("The check's inputs: labels = [1.0, 0.0], z = [2.0, -1.0]")


def test_every_failing_value_explained_is_said_once_of_the_whole_answer():
    check = Check("loss", "example", loss_probe, ([1.0, 0.0], [2.0, -1.0]),
                  [Close("cost"), Close("grad"), Close("same")], swappable=("labels", "z"))
    result = judge_check(check, ok(cost=2.0, grad=[1.0, 2.0], same=3.0), ok(cost=5.0, grad=[3.0, 4.0], same=3.0),
                         swapped=swapped(cost=2.0, grad=[1.0, 2.0], same=3.0))
    assert result.message.startswith(f"`loss`: {WHOLE_WORDS}: check the order of the arguments")
    assert result.message.count("swapped") == 1


def test_one_value_of_several_is_named_alone_and_replaces_a_partial_transform():
    check = Check("ops", "example", loss_probe, ([4.0, 0.0], [2.0, 2.0]), [Close("divide"), Close("mod")],
                  swappable=("labels", "z"))
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = ok(divide=[2.0, 0.0], mod=[0.0, 0.0])
        # mod swapped: NaN where the expected value is 0 (the numbers alone say only that)
        result = judge_check(check, ok(divide=[2.0, 0.0], mod=[2.0, np.nan]), expected,
                             swapped=swapped(divide=[0.5, np.inf], mod=[2.0, np.nan]))
    assert result.message.count(SWAPPED_WORDS) == 1 and "division by zero" not in result.message
    assert "'divide'" not in result.message and "mod" in result.message


@pytest.mark.parametrize("actual, the_swap, why", [
    (2.6, 2.5128, "near the swapped value, outside the tolerance"),
    (7.0, 41.4143, "the swap changes nothing: the same value as the reference"),
    (np.nan, np.nan, "a swapped value that is NaN throughout tells nothing"),
])
def test_no_swap_is_named_without_an_exact_informative_match(actual, the_swap, why):
    with np.errstate(invalid="ignore"):
        result = judge_check(loss_check(), ok(cost=actual), ok(cost=41.4143), swapped=swapped(cost=the_swap))
    assert not result.passed and "swapped" not in result.message, why


def test_a_passing_answer_a_hidden_check_and_a_known_mistake_come_before_the_swap():
    reference = ok(cost=41.4143)
    assert judge_check(loss_check(), ok(cost=41.4143), reference, swapped=swapped(cost=41.4143)).passed
    hidden = judge_check(loss_check(hidden=True), ok(cost=2.5128), reference, swapped=swapped(cost=2.5128))
    assert hidden.message == HIDDEN_MESSAGES["wrong"].format(fn="`loss`")  # no swap, no inputs
    known = judge_check(loss_check(), ok(cost=2.5128), reference, [("labels and z are swapped", ok(cost=2.5128))],
                        swapped=swapped(cost=2.5128))
    assert known.message.startswith("`loss`: Likely mistake: labels and z are swapped.")
    assert "reference solution gives" not in known.message


def test_judge_all_reads_the_swapped_references_of_public_checks():
    check = loss_check()
    refs = {"checks": {check.id: ok(cost=41.4143)}, "swapped": {check.id: swapped(cost=2.5128)}}
    [result] = judge_all([check], {check.id: ok(cost=2.5128)}, refs)
    assert SWAPPED_WORDS in result.message
    [plain] = judge_all([check], {check.id: ok(cost=2.5128)}, {"checks": refs["checks"]})
    assert "swapped" not in plain.message


def test_a_property_with_the_swapped_reference_is_judged_too():
    def at_least(actual, expected, hidden=False):
        return None if actual["cost"] >= expected["cost"] else "too small"

    check = loss_check([Property(at_least)])
    result = judge_check(check, ok(cost=2.0), ok(cost=5.0), swapped=swapped(cost=1.0))
    assert SWAPPED_WORDS in result.message


# ---------------------------------------------------------------- the inputs beside a failing check


def test_a_failing_public_check_says_its_inputs_and_a_hidden_one_never():
    wrong = ok(cost=7.0)
    public = judge_check(loss_check(), wrong, ok(cost=41.4143))
    assert public.message.endswith(". The check's inputs: labels = [1.0, 0.0], z = [2.0, -1.0]")
    raised = {"status": "error", "kind": "student", "exc_type": "ValueError", "message": "bad"}
    assert "The check's inputs: labels = " in judge_check(loss_check(), raised, ok(cost=1.0)).message
    for obs in (wrong, raised):
        hidden = judge_check(loss_check(hidden=True), obs, ok(cost=41.4143))
        assert hidden.message in (HIDDEN_MESSAGES["wrong"].format(fn="`loss`"),
                                  HIDDEN_MESSAGES["error"].format(fn="`loss`"))
    unfinished = {"status": "error", "kind": "student", "exc_type": "NotImplementedError", "message": ""}
    assert "The check's inputs" not in judge_check(loss_check(), unfinished, ok(cost=1.0)).message
    assert judge_check(loss_check(), ok(cost=41.4143), ok(cost=41.4143)).message == "passed"


def test_inputs_are_short_named_by_the_probe_and_big_arrays_are_summarised_with_their_shape():
    assert inputs_text(["X", "W", "b"], ([[0.0, 0.0], [1.0, 1.0]], [[1.23], [1.0]], -0.55)) == \
        "X = [[0.0, 0.0], [1.0, 1.0]] (shape (2, 2)), W = [[1.23], [1.0]] (shape (2, 1)), b = -0.55"
    assert inputs_text(["xs"], (list(range(100)),)) == "xs = [0, 1, 2, ..., 97, 98, 99] (shape (100,))"
    assert inputs_text(["alpha", "*more"], (0.5, (2.0, 50, 9), (0.1, 1, 1))) == \
        "alpha = 0.5, more = ((2.0, 50, 9), (0.1, 1, 1))"
    assert inputs_text(["n", "seed"], (20,)) == "n = 20"  # a parameter left to its default
    assert short(np.float32(0.55)) == "0.55" and short("x" * 100) == repr("x" * 37 + "...")
    big = inputs_text(["a"], (np.arange(600, dtype=np.float32).reshape(20, 30) / 7,))
    assert big.endswith("... (shape (20, 30))") and len(big) <= 170
    many = inputs_text([f"p{i}" for i in range(40)], tuple(np.ones((40, 50)).tolist()))
    assert len(many) <= 480 and many.endswith("...")


# ---------------------------------------------------------------- declaring, computing, shipping


@pytest.mark.parametrize("change, words", [
    (dict(hidden=True), "swappable is for public checks only"),
    (dict(swappable=("labels", "p")), "swappable names 'p'"),
    (dict(swappable=("labels",)), "a tuple of two different parameter names"),
    (dict(swappable=("labels", "labels")), "a tuple of two different parameter names"),
    (dict(args=([1.0],), swappable=("labels", "z")), "swappable names 'z'"),
])
def test_a_bad_swappable_is_a_check_file_error(change, words, tmp_path):
    module = type("M", (), {"CHECKS": [dataclasses.replace(loss_check(), **change)]})
    with pytest.raises(CheckFileError, match=words):
        validate_module(module, str(tmp_path / "checks.py"), "hidden" if change.get("hidden") else "public")


def test_swapped_checks_exchange_the_two_inputs_and_siblings_never_swap():
    check = loss_check()
    assert check.swapped().args == ([2.0, -1.0], [1.0, 0.0]) and check.args == ([1.0, 0.0], [2.0, -1.0])
    assert sibling(check, ([0.0], [1.0])).swappable == ()
    checks = {check.id: check, "loss.hidden": dataclasses.replace(check, name="hidden", hidden=True)}
    assert swapped_check(checks, swapped_id(check.id)).args == check.swapped().args
    assert swapped_check(checks, swapped_id("loss.hidden")) is None
    assert swapped_check(checks, "loss.example") is None and swapped_check(checks, swapped_id("nope")) is None


@pytest.fixture
def course(tmp_path):
    """The scaffold's course with its public check declaring its two inputs swappable."""
    fakes.course(tmp_path)
    checks = tmp_path / "assignments" / fakes.NAME / "checks.py"
    checks.write_text(checks.read_text().replace('points=1, explain=', 'points=1, swappable=("x", "factor"), '
                                                 'explain='))
    return find_assignment(str(tmp_path / "assignments" / fakes.NAME))


def test_the_reference_run_computes_the_swap_for_public_checks_and_release_ships_only_those(course):
    sandbox = fakes.FakeSandbox({f"{fakes.NAME} (solution)": {swapped_id(fakes.PUBLIC): fakes.WRONG}})
    refs = compute_references(course, course.checkset(hidden=True), sandbox, hidden=True)
    [job] = sandbox.jobs
    assert job.checks[-1] == swapped_id(fakes.PUBLIC) and swapped_id(fakes.HIDDEN) not in job.checks
    assert refs["swapped"] == {fakes.PUBLIC: {"names": ["x", "factor"], "observation": fakes.WRONG}}
    forged = {**refs, "swapped": {**refs["swapped"], fakes.HIDDEN: refs["swapped"][fakes.PUBLIC]}}
    shipped = releasable(course, forged)
    assert set(shipped["swapped"]) == {fakes.PUBLIC}
    public = course.checkset(hidden=False)
    plain = build_job("student", course, [], public.checks, public.limits, False)
    assert plain.checks == [fakes.PUBLIC]  # a student's run never swaps anything


def test_a_solution_that_records_nothing_on_the_swapped_inputs_is_refused(course):
    broken = {"status": "error", "kind": "student", "exc_type": "ValueError", "message": "shapes"}
    sandbox = fakes.FakeSandbox({f"{fakes.NAME} (solution)": {swapped_id(fakes.PUBLIC): broken}})
    with pytest.raises(SolutionFailsChecks, match=r"declares swappable=\('x', 'factor'\)"):
        compute_references(course, course.checkset(hidden=True), sandbox, hidden=True)


@pytest.mark.parametrize("name", ["01_tf_basics", "02_linear_classifier"])
def test_the_released_references_hold_the_swaps_of_public_checks_only(name):
    assignment = find_assignment(name)
    public = [c for c in assignment.checkset(hidden=False).checks if c.swappable]
    shipped = assignment.load_public_reference()["swapped"]
    assert public and set(shipped) == {c.id for c in public}
    for check in public:
        assert shipped[check.id]["names"] == list(check.swappable)
        assert shipped[check.id]["observation"]["status"] == "ok"
        # the swapped value differs from the reference's: the declaration can name something
        assert shipped[check.id]["observation"] != assignment.load_public_reference()["checks"][check.id]
