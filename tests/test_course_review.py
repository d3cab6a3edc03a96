"""The course review's mistakes that used to keep full marks (tests/corpus/review.py), graded for
real: each loses points on its own exercise only, and a public check of that exercise fails with
a message that names what is wrong, so a student finds it before handing in. The solution keeps
full marks on the same grading run."""

import pytest

from autograder.assignments.course import find_assignment
from tests import nbfactory
from tests.test_course_corpus import grade_corpus
from tests.corpus import review

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("assignment", sorted(review.BY_ASSIGNMENT))
def test_review_mistakes_lose_points_on_a_public_check(assignment, tmp_path_factory, run_cli):
    # The review's mistakes are in the course corpus: its grading (once per session) serves here too.
    graded = grade_corpus(assignment, "local", tmp_path_factory, run_cli)
    results = {k.removeprefix("mistake_"): v for k, v in graded["results"].items()}
    catalogue = review.BY_ASSIGNMENT[assignment]
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


# ---------------------------------------------------------------- what the student notebooks show (item 3, 5, 6)

ASSIGNMENTS = ["01_tf_basics", "02_linear_classifier", "03_deep_network"]


def _section_before(nb, exercise):
    """The markdown cell that introduces an exercise: the last one before its answer cell."""
    cells = nb.cells
    answer = next(i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade_id") == f"answer_{exercise}")
    return next(c for c in reversed(cells[:answer]) if c.cell_type == "markdown").source


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_each_exercise_shows_its_public_examples_and_expected_values(name):
    from autograder.checks.plaindata import decode
    from autograder.checks.rules import Close, Equal

    nb = nbfactory.student_notebook(name)
    assignment = find_assignment(name)
    reference = assignment.load_public_reference()
    for check in assignment.checkset(hidden=False).checks:
        text = _section_before(nb, check.exercise)
        block = text[text.index(f"**Expected output** (public check `{check.name}`"):]
        block = block[:block.index("```\n")]
        assert "inputs of the check: (" in block, (check.id, block)
        values = reference["checks"][check.id]["values"]
        for rule in check.rules:
            if isinstance(rule, (Close, Equal)) and rule.key in values:
                label = (rule.label or rule.key).strip("'`")
                assert f"\n{label}: " in block, (check.id, label, block)
                value = decode(values[rule.key])
                if isinstance(value, float):
                    assert f"\n{label}: {value!r}" in block, (check.id, label, block)


def test_the_examples_show_the_edges_that_catch_the_review_mistakes():
    nb = nbfactory.student_notebook("01_tf_basics")
    ops = _section_before(nb, "elementwise_ops")
    assert "inputs of the check: ([4.0, 9.0, -2.5, 0.5, 0.0]" in ops
    assert "reciprocal: [0.25, 0.11111111, -0.4, 2.0, inf]" in ops and "sign: [1.0, 1.0, -1.0, 1.0, 0.0]" in ops
    eager = _section_before(nb, "eager_linear")
    assert "y for the inputs with more decimals: -1.02961" in eager
    driving = _section_before(nbfactory.student_notebook("03_deep_network"), "make_driving_data")
    assert "inputs of the check: (20, 0)" in driving and "shape (20,)" in driving


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_tensorboard_and_worked_examples_are_explorations_that_grading_never_runs(name):
    """TensorBoard cells write logs only where a student runs them: each is a skip cell (never run
    when grading), and the notebook itself starts no TensorBoard server (the magics are shown as
    comments to copy). Each notebook's introduction says how long it takes."""
    nb = nbfactory.student_notebook(name)
    assert "*Estimated time: about" in nb.cells[0].source
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if "tensorboard" in cell.source.lower() or "keras.Sequential" in cell.source and "explore" in cell.source:
            assert cell.metadata.get("autograder", {}).get("skip") is True, cell.source[:200]
        for line in cell.source.splitlines():
            assert not line.lstrip().startswith("%tensorboard") and not line.lstrip().startswith("%load_ext"), line
    tensorboard = [c for c in nb.cells if c.cell_type == "code" and "tensorboard" in c.source.lower()]
    assert (name != "02_linear_classifier") == bool(tensorboard)
