"""Each assignment against its corpus: solution, stub, mistakes and valid variations.

For every assignment: the solution gets full marks, the student version 0,
every mistake loses exactly its exercise's points with feedback that names the
mistake, every valid variation gets full marks, and grading twice gives
identical results. Hidden inputs and reference values never appear in feedback.
"""

import fcntl
import importlib
import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from autograder.assignments.course import find_assignment
from tests import nbfactory
from tests.conftest import json_lines

pytestmark = pytest.mark.slow

CORPORA = {
    "01_tf_basics": "tests.corpus.tf_basics",
    "02_linear_classifier": "tests.corpus.linear_classifier",
    "03_deep_network": "tests.corpus.deep_network",
}


def exercise_points(result):
    pts = {}
    for c in result["checks"]:
        pts[c["exercise"]] = pts.get(c["exercise"], 0) + c["points"]
    return pts


_GRADED: dict = {}


def shared_folder(tmp_path_factory) -> Path:
    """A folder every test process of this run shares: pytest-xdist's workers have temporary
    folders of their own, side by side under one run folder."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    base = tmp_path_factory.getbasetemp()
    folder = base.parent / f"shared-{run}" if run else base / "shared"
    folder.mkdir(exist_ok=True)
    return folder


def grade_corpus(name, backend, tmp_path_factory, run_cli, corpus=None):
    """Grade an assignment's corpus (or the part ``corpus`` names) once per backend and test run:
    the first test process to need it grades it (under a lock); the others read what it stored."""
    if (name, backend) in _GRADED:
        return _GRADED[(name, backend)]
    corpus = corpus or importlib.import_module(CORPORA[name])
    shared = shared_folder(tmp_path_factory)
    with open(shared / f"{name}-{backend}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stored = shared / f"{name}-{backend}.json"
        if not stored.exists():
            subs = nbfactory.corpus(tmp_path_factory.mktemp(f"subs_{name}_{backend}"), name, corpus)
            out = tmp_path_factory.mktemp(f"out_{name}_{backend}")
            proc = run_cli("grade", name, subs, "--json", "--jobs", "2", "--out", out, "--backend", backend)
            assert proc.returncode == 0, proc.stderr[-3000:]
            stored.write_text(json.dumps({"results": json_lines(proc.stdout), "subs": str(subs), "out": str(out)}))
        graded = json.loads(stored.read_text())
    checks = find_assignment(name).checkset(hidden=True)
    full = {e: sum(c.points for c in checks.checks if c.exercise == e) for e in checks.exercises()}
    _GRADED[(name, backend)] = {"name": name, "corpus": corpus, "results": graded["results"], "full": full,
                                "max": checks.max_score(), "subs": Path(graded["subs"]), "out": Path(graded["out"])}
    return _GRADED[(name, backend)]


@pytest.fixture(scope="module", params=sorted(CORPORA))
def graded(request, tmp_path_factory, run_cli):
    return grade_corpus(request.param, "local", tmp_path_factory, run_cli)


def parity_corpus(name):
    """What Docker grades to be compared with local: 03's notebooks train networks (seconds each),
    so there every exercise's first mistake and every valid variation; elsewhere the whole corpus.
    AUTOGRADER_TEST_EXHAUSTIVE=1: the whole corpus everywhere."""
    corpus = importlib.import_module(CORPORA[name])
    if name != "03_deep_network" or os.environ.get("AUTOGRADER_TEST_EXHAUSTIVE") == "1":
        return corpus
    first: dict = {}
    for mistake, entry in corpus.MISTAKES.items():
        first.setdefault(entry[0], (mistake, entry))
    return SimpleNamespace(MISTAKES=dict(first.values()), VARIATIONS=corpus.VARIATIONS)


def test_solution_full_and_stub_zero(graded):
    results = graded["results"]
    assert results["solution"]["score"] == graded["max"], results["solution"]
    stub = results["stub"]
    assert stub["score"] == 0 and stub["max_score"] == graded["max"]
    assert all("not implemented yet" in c["message"] for c in stub["checks"])


def test_every_mistake_loses_exactly_its_exercise_with_a_named_cause(graded):
    problems = []
    for mistake, (exercise, _, words) in graded["corpus"].MISTAKES.items():
        r = graded["results"][f"mistake_{mistake}"]
        pts = exercise_points(r)
        lost = {e: graded["full"][e] - p for e, p in pts.items() if p != graded["full"][e]}
        messages = " | ".join(c["message"] for c in r["checks"] if c["exercise"] == exercise and not c["passed"])
        if lost != {exercise: graded["full"][exercise]} or words not in messages:
            problems.append(f"{mistake}: lost {lost}; feedback: {messages[:600]}")
    assert not problems, "\n".join(problems)


def test_valid_variations_get_full_marks(graded):
    for variation in graded["corpus"].VARIATIONS:
        r = graded["results"][f"variation_{variation}"]
        failing = [(c["id"], c["message"]) for c in r["checks"] if not c["passed"]]
        assert r["score"] == graded["max"], (variation, failing)


def test_hidden_feedback_never_shows_hidden_inputs(graded):
    """Hidden checks' messages never contain numbers that only their inputs have."""
    import re

    checks = find_assignment(graded["name"]).checkset(hidden=True)

    def numbers(hidden):
        return {repr(x) for c in checks.checks if c.hidden == hidden for a in c.args for x in _leaves(a)
                if isinstance(x, float)}

    secret = numbers(True) - numbers(False) - {"0.0", "1.0"}
    patterns = [re.compile(rf"(?<![\d.]){re.escape(n)}(?![\d])") for n in secret]
    for r in graded["results"].values():
        for c in r["checks"]:
            if c["hidden"]:
                leaked = [p.pattern for p in patterns if p.search(c["message"])]
                assert not leaked, (r["student"], c["id"], c["message"])


def _leaves(value):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def test_grading_twice_gives_identical_results(graded, run_cli):
    subs = graded["subs"]
    names = ["solution", "stub"] + [f"mistake_{m}" for m in list(graded["corpus"].MISTAKES)[:3]]
    proc = run_cli("grade", graded["name"], *[subs / f"{n}.ipynb" for n in names], "--json", "--force",
                   "--out", graded["out"], "--jobs", "2")
    again = json_lines(proc.stdout)
    strip = lambda r: [(c["id"], c["points"], c["message"]) for c in r["checks"]]  # noqa: E731
    for n in names:
        assert strip(again[n]) == strip(graded["results"][n]), n
