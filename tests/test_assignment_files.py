"""The committed course files agree with each other and with the course's exercise list (docs/course.md)."""

import ast

import pytest

from autograder.assignments.course import find_assignment
from autograder.notebooks.reading import cell_role, nbgrader_meta
from autograder.assignments.student_files import render, student_version
from tests import nbfactory

# The exact names and signatures of the exercises (docs/course.md): graders and tools rely on them.
CURRICULUM = {
    "01_tf_basics": {
        "build_linear_graph": "(x, w, b)",
        "evaluate": "(graph, tensor)",
        "variables_model": "(x, seed)",
        "feed_placeholder": "(xs, w=6.0, b=1.5)",
        "describe_tensor": "(value)",
        "unique_shapes": "(values)",
        "elementwise_ops": "(a, b)",
        "eager_linear": "(x, w, b)",
    },
    "02_linear_classifier": {
        "make_dataset": "(n, seed)",
        "decision_scores": "(X, W, b)",
        "predict_proba": "(X, W, b)",
        "cross_entropy": "(labels, p)",
        "cross_entropy_from_logits": "(labels, z)",
        "train_gradient_descent": "(X, labels, learning_rate, epochs)",
        "train_minibatch_sgd": "(X, labels, learning_rate, epochs, batch_size, seed)",
        "train_momentum": "(X, labels, learning_rate, momentum, epochs)",
        "decayed_step_size": "(alpha, n, i)",
        "accuracy": "(X, labels, W, b)",
    },
    "03_deep_network": {
        "polynomial_features": "(X, degree)",
        "make_driving_data": "(n, seed)",
        "build_mlp": "(hidden_units, seed)",
        "train_mlp": "(X, labels, hidden_units, epochs, learning_rate, seed)",
        "linear_vs_deep": "(X_train, y_train, X_test, y_test, seed)",
    },
}


@pytest.mark.parametrize("name", sorted(CURRICULUM))
def test_committed_student_version_equals_a_fresh_generation(name):
    assignment = find_assignment(name)
    fresh = render(student_version(assignment))
    assert assignment.student_notebook.read_text(encoding="utf-8") == fresh, \
        f"run `autograder release {name}` and commit the result"


@pytest.mark.parametrize("name", sorted(CURRICULUM))
def test_student_version_has_stubs_and_no_hidden_tests_or_solutions(name):
    text = find_assignment(name).student_notebook.read_text()
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    nb = nbfactory.student_notebook(name)
    answers = [c for c in nb.cells if cell_role(c) == "answer"]
    assert len(answers) == len(CURRICULUM[name])
    assert all("raise NotImplementedError()" in c.source for c in answers)


@pytest.mark.parametrize("name", sorted(CURRICULUM))
def test_functions_have_the_curriculum_names_and_signatures(name):
    answers = nbfactory.solution_answers(name)
    for fn, signature in CURRICULUM[name].items():
        source = answers[f"answer_{fn}"]
        defs = [n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]
        assert [d.name for d in defs] == [fn]
        assert f"({ast.unparse(defs[0].args)})" == signature


@pytest.mark.parametrize("name", sorted(CURRICULUM))
def test_check_points_match_the_notebooks_test_cells(name):
    assignment = find_assignment(name)
    checks = assignment.checkset(hidden=True)
    assert set(checks.exercises()) == set(CURRICULUM[name])
    points = {nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"]
              for c in nbfactory.solution_notebook(name).cells if cell_role(c) == "test"}
    for exercise in CURRICULUM[name]:
        total = sum(c.points for c in checks.checks if c.exercise == exercise)
        assert points[f"test_{exercise}"] == total, exercise
        kinds = {c.hidden for c in checks.checks if c.exercise == exercise}
        assert kinds == {False, True}, f"{exercise} needs public and hidden checks"


@pytest.mark.parametrize("name", sorted(CURRICULUM))
def test_public_files_hold_no_hidden_inputs_or_solutions(name):
    assignment = find_assignment(name)
    public = assignment.checkset(hidden=False)
    assert not any(c.hidden for c in public.checks)
    refs = assignment.load_public_reference()
    assert set(refs["checks"]) == {c.id for c in public.checks}
    for mistake in refs["mistakes"].values():
        assert set(mistake["checks"]) <= {c.id for c in public.checks}


def test_bundled_example_batch_is_up_to_date(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_batch", nbfactory.ROOT / "examples" / "build_batch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.build(tmp_path)
    committed = nbfactory.ROOT / "examples" / "01_tf_basics"
    assert sorted(p.name for p in fresh) == sorted(p.name for p in committed.glob("*.ipynb"))
    for p in fresh:
        assert p.read_bytes() == (committed / p.name).read_bytes(), f"run python examples/build_batch.py ({p.name})"
