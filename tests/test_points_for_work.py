"""Points for work, not for looking up; training checks that see training (issue 28).

Adversarial notebooks (tests/corpus/attacks.py): a blank notebook whose functions return the
published values of the public checks, for 02 and 03, and a network whose weights come from a
formula, compiled but never fitted, with made-up losses. Each must score 0 on the exercises it
fakes. The public reference files must hold no trained network.
"""

import json

import pytest

from tests import nbfactory
from tests.conftest import json_lines
from tests.corpus import attacks


def _probe(student, x):
    return {"z": student.f(x)}


def _judged(sibling_obs, sibling_points=0.0):
    from autograder.checks.judge import judge_all
    from autograder.checks.plaindata import encode
    from autograder.checks.rules import Close
    from autograder.checks.spec import Check, sibling

    public = Check("f", "example", _probe, (1.0,), [Close("z")], explain="f(1)")
    twin = sibling(public, (2.0,))
    if sibling_points:
        from dataclasses import replace
        twin = replace(twin, points=sibling_points)
    ok = lambda v: {"status": "ok", "values": {"z": encode(v)}}  # noqa: E731
    references = {"checks": {public.id: ok(1.0), twin.id: ok(2.0)}, "mistakes": {}}
    return judge_all([public, twin], {public.id: ok(1.0), twin.id: sibling_obs}, references)


def test_a_public_pass_whose_sibling_fails_earns_nothing():
    from autograder.checks.plaindata import encode

    results = _judged({"status": "ok", "values": {"z": encode(1.0)}})  # the published value again
    assert [r.id for r in results] == ["f.example"]  # a sibling without points is never listed
    (public,) = results
    assert not public.passed and public.points == 0 and public.outcome == "wrong"
    assert "matches the published example only" in public.message and "2.0" not in public.message


def test_a_public_pass_whose_sibling_passes_keeps_its_points():
    from autograder.checks.plaindata import encode

    (public,) = _judged({"status": "ok", "values": {"z": encode(2.0)}})
    assert public.passed and public.points == 1


def test_a_sibling_that_timed_out_costs_its_public_check_nothing():
    (public,) = _judged({"status": "timeout", "limit_s": 3})
    assert public.passed and public.points == 1


def test_a_sibling_with_points_is_a_hidden_check_of_its_own():
    from autograder.checks.plaindata import encode

    public, twin = _judged({"status": "ok", "values": {"z": encode(1.0)}}, sibling_points=2)
    assert (public.points, twin.points, twin.hidden, twin.name) == (0, 0, True, "hidden 1")


def test_the_released_reference_ships_derived_values_not_artefacts():
    from autograder.checks.judge import judge_check
    from autograder.checks.plaindata import encode
    from autograder.assignments.student_files import published
    from autograder.checks.rules import Close
    from autograder.checks.spec import Check

    def derive(values, x):
        return {"y": values["model"]["w"] * x}

    check = Check("f", "example", _probe, (3.0,), [Close("y")], derive=derive)
    observation = {"status": "ok", "values": {"model": encode({"w": 2.0}), "steps": encode(5)}}
    shipped = published(check, observation)
    assert shipped["derived"] is True and set(shipped["values"]) == {"y", "steps"}
    # The self-check judges a fresh answer against the shipped values as the grader does.
    assert judge_check(check, observation, shipped).passed
    wrong = {"status": "ok", "values": {"model": encode({"w": 1.0}), "steps": encode(5)}}
    assert not judge_check(check, wrong, shipped).passed


def test_validate_reports_a_sibling_of_no_public_check():
    from autograder.checks.rules import Close
    from autograder.checks.spec import Check, CheckSet, sibling
    from autograder.assignments.validate import check_problems

    public = Check("f", "example", _probe, (1.0,), [Close("z")])
    stray = sibling(Check("f", "elsewhere", _probe, (1.0,), [Close("z")]), (2.0,))
    problems = check_problems(CheckSet([public, sibling(public, (3.0,)), stray]))
    assert problems == ["hidden check f.elsewhere_sibling is the sibling of elsewhere, which is no public check of f"]


def exercise_points(result):
    points: dict = {}
    for c in result["checks"]:
        points[c["exercise"]] = points.get(c["exercise"], 0) + c["points"]
    return points


def _has_weights(value) -> bool:
    """Whether plain data (as public_reference.json holds it) carries a network's weights."""
    if isinstance(value, dict):
        if value.get("t") == "str" and value.get("v") == "weights":
            return True
        return any(_has_weights(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_weights(v) for v in value)
    return False


@pytest.mark.parametrize("assignment", ["01_tf_basics", "02_linear_classifier", "03_deep_network"])
def test_public_references_ship_no_network(assignment):
    reference = json.loads((nbfactory.ROOT / "assignments" / assignment / "public_reference.json").read_text())
    carrying = [cid for cid, obs in reference["checks"].items() if _has_weights(obs)]
    assert not carrying, f"{assignment}: the public reference ships networks with their weights: {carrying}"


_GRADED: dict = {}


def _grade(assignment, notebooks, tmp_path_factory, run_cli, backend="local"):
    if (assignment, backend) not in _GRADED:
        folder = tmp_path_factory.mktemp(f"attacks_{assignment}_{backend}")
        for name, answers in notebooks.items():
            nbfactory.make(folder / f"{name}.ipynb", assignment, answers, solved=False)
        out = tmp_path_factory.mktemp(f"attacks_out_{assignment}_{backend}")
        proc = run_cli("grade", assignment, folder, "--json", "--jobs", "2", "--out", out, "--backend", backend)
        assert proc.returncode == 0, proc.stderr[-3000:]
        _GRADED[(assignment, backend)] = json_lines(proc.stdout)
    return _GRADED[(assignment, backend)]


ATTACKS = {
    "02_linear_classifier": lambda: {"lookup": attacks.lookup_answers("02_linear_classifier")},
    "03_deep_network": lambda: {"lookup": attacks.lookup_answers("03_deep_network"),
                                "never_trained": attacks.NEVER_TRAINED,
                                "fitted_at_rate_zero": attacks.FITTED_AT_RATE_ZERO},
}


@pytest.fixture(scope="module")
def graded_02(tmp_path_factory, run_cli):
    return _grade("02_linear_classifier", ATTACKS["02_linear_classifier"](), tmp_path_factory, run_cli)


@pytest.fixture(scope="module")
def graded_03(tmp_path_factory, run_cli):
    return _grade("03_deep_network", ATTACKS["03_deep_network"](), tmp_path_factory, run_cli)


def _earned(result, exercises):
    points = exercise_points(result)
    return {e: points.get(e) for e in exercises if points.get(e)}


@pytest.mark.slow
def test_lookup_of_published_values_earns_nothing_on_02(graded_02):
    r = graded_02["lookup"]
    assert r["status"] == "graded", r
    earned = _earned(r, attacks.faked_by_lookup("02_linear_classifier"))
    assert not earned and r["score"] == 0, (earned, [(c["id"], c["message"]) for c in r["checks"] if c["passed"]])
    said = " | ".join(c["message"] for c in r["checks"] if not c["hidden"])
    assert "matches the published example only" in said, said[:2000]


@pytest.mark.slow
def test_lookup_of_published_values_earns_nothing_on_03(graded_03):
    r = graded_03["lookup"]
    assert r["status"] == "graded", r
    earned = _earned(r, attacks.faked_by_lookup("03_deep_network"))
    assert not earned and r["score"] == 0, (earned, [(c["id"], c["message"]) for c in r["checks"] if c["passed"]])


@pytest.mark.slow
def test_a_network_never_trained_earns_nothing(graded_03):
    r = graded_03["never_trained"]
    assert r["status"] == "graded", r
    earned = _earned(r, list(attacks.NEVER_TRAINED))
    assert not earned and r["score"] == 0, (earned, [(c["id"], c["message"]) for c in r["checks"]])
    train = [c["message"] for c in r["checks"] if c["id"] == "train_mlp.two_hidden_layers"]
    assert train and "optimizer" in train[0], train


@pytest.mark.slow
def test_a_network_fitted_without_moving_earns_nothing(graded_03):
    """Steps counted, losses made up to end at the network's own loss, weights from a formula: a
    second training from another seed gives it away."""
    r = graded_03["fitted_at_rate_zero"]
    assert r["status"] == "graded", r
    earned = _earned(r, ["train_mlp"])
    assert not earned, (earned, [(c["id"], c["message"]) for c in r["checks"]])
    train = [c["message"] for c in r["checks"] if c["id"] == "train_mlp.two_hidden_layers"]
    assert train and "another seed gave the same trained network" in train[0], train


@pytest.mark.slow
@pytest.mark.docker
@pytest.mark.parametrize("assignment", sorted(ATTACKS))
def test_the_attacks_earn_nothing_in_docker_either(assignment, engine, tmp_path_factory, run_cli):
    results = _grade(assignment, ATTACKS[assignment](), tmp_path_factory, run_cli, backend="docker")
    scored = {name: (r["status"], r["score"]) for name, r in results.items()}
    assert scored == {name: ("graded", 0) for name in ATTACKS[assignment]()}, scored
