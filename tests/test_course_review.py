"""The course review's mistakes that used to keep full marks (tests/corpus/review.py), graded for
real: each loses points on its own exercise only, and a public check of that exercise fails with
a message that names what is wrong, so a student finds it before handing in. The solution keeps
full marks on the same grading run."""

import pytest

from autograder.course import find_assignment
from tests import nbfactory
from tests.conftest import json_lines
from tests.corpus import review

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("assignment", sorted(review.BY_ASSIGNMENT))
def test_review_mistakes_lose_points_on_a_public_check(assignment, tmp_path, run_cli):
    catalogue = review.BY_ASSIGNMENT[assignment]
    nbfactory.make(tmp_path / "subs" / "solution.ipynb", assignment)
    for name, (exercise, source, _) in catalogue.items():
        nbfactory.make(tmp_path / "subs" / f"{name}.ipynb", assignment, answers={exercise: source})
    proc = run_cli("grade", assignment, tmp_path / "subs", "--json", "--jobs", "2", "--out", tmp_path / "out",
                   "--backend", "local")
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json_lines(proc.stdout)
    checks = find_assignment(assignment).checkset(hidden=True)
    assert results["solution"]["score"] == checks.max_score(), results["solution"]["checks"]
    full = {e: sum(c.points for c in checks.checks if c.exercise == e) for e in checks.exercises()}
    problems = []
    for name, (exercise, _, words) in catalogue.items():
        r = results[name]
        points = {}
        for c in r["checks"]:
            points[c["exercise"]] = points.get(c["exercise"], 0) + c["points"]
        lost = {e: full[e] - p for e, p in points.items() if p != full[e]}
        public = " | ".join(c["message"] for c in r["checks"]
                            if c["exercise"] == exercise and not c["passed"] and not c["hidden"])
        if set(lost) != {exercise} or not public or words not in public:
            problems.append(f"{name}: lost {lost}; public feedback: {public[:500] or 'none failed'}")
    assert not problems, "\n".join(problems)
