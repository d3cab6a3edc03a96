"""An instructor's own course, without a sandbox: scaffolding, check-file errors, the
static part of `validate`, course.toml, and the engine apart from the course."""

import os
import subprocess
import sys
import zipfile

import nbformat
import pytest

from autograder.checks.problems import CheckFileError
from autograder.assignments.course import UsageError, find_assignment
from autograder.assignments.scaffold import scaffold
from autograder.assignments.validate import quoted_inputs, static_problems
from tests.conftest import ROOT

NAME = "04_scale"


@pytest.fixture
def course(tmp_path):
    scaffold(tmp_path, NAME)
    return tmp_path


def _assignment(root):
    return find_assignment(NAME, root)


def _edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def _set_cell(root, grade_id, **changes):
    path = root / "solutions" / NAME / f"{NAME}.ipynb"
    nb = nbformat.read(path, 4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            for key, value in changes.items():
                if key == "source":
                    cell.source = value
                else:
                    cell.metadata["nbgrader"][key] = value
    nbformat.write(nb, path)


def test_the_scaffold_is_a_valid_assignment(course):
    a = _assignment(course)
    nb = a.load_solution()
    assert nb["metadata"]["autograder"]["assignment"] == NAME
    ids = [c["metadata"].get("nbgrader", {}).get("grade_id") for c in nb["cells"]]
    assert ids == [None, "setup", None, "answer_scale", "test_scale"]
    assert static_problems(a) == []
    checks = a.checkset(hidden=True)
    assert [c.id for c in checks.checks] == ["scale.small_vector", "scale.negative_factor"]
    assert [m.name for m in checks.mistakes] == ["adds_factor"]


def test_new_refuses_an_existing_assignment_and_a_bad_name(course):
    with pytest.raises(UsageError, match="already exists"):
        scaffold(course, NAME)
    with pytest.raises(UsageError, match="an assignment name is"):
        scaffold(course, "../escape")


def test_new_from_a_notebook_marks_the_cells_that_define_functions(tmp_path):
    plain = nbformat.v4.new_notebook()
    plain.cells = [nbformat.v4.new_markdown_cell("# ReLU"),
                   nbformat.v4.new_code_cell("import numpy as np"),
                   nbformat.v4.new_code_cell('def relu(x):\n    """max(x, 0)."""\n    return np.maximum(x, 0)'),
                   nbformat.v4.new_code_cell("relu([-1, 2])")]
    nbformat.write(plain, tmp_path / "mine.ipynb")
    scaffold(tmp_path, "05_relu", tmp_path / "mine.ipynb")
    nb = nbformat.read(tmp_path / "solutions" / "05_relu" / "05_relu.ipynb", 4)
    meta = [c.metadata.get("nbgrader", {}) for c in nb.cells]
    assert [m.get("grade_id") for m in meta] == [None, "setup", "answer_relu", "test_relu", "cell_4"]
    assert meta[2]["solution"] and meta[3]["grade"] and meta[3]["points"] == 1
    assert nb.cells[2].source.splitlines() == ['def relu(x):', '    """max(x, 0)."""', "    ### BEGIN SOLUTION",
                                               "    return np.maximum(x, 0)", "    ### END SOLUTION"]
    assert nb.metadata["autograder"]["assignment"] == "05_relu"
    assert "def relu_probe(student, *args)" in (tmp_path / "assignments" / "05_relu" / "checks.py").read_text()


def test_new_from_a_notebook_without_functions_is_refused(tmp_path):
    plain = nbformat.v4.new_notebook()
    plain.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(plain, tmp_path / "mine.ipynb")
    with pytest.raises(UsageError, match="no code cell defines a function"):
        scaffold(tmp_path, "05_relu", tmp_path / "mine.ipynb")


# ---------------------------------------------------------------- check-file errors


@pytest.mark.parametrize("old, new, line, words", [
    ("CHECKS = [", "CHEKS = [", 19, "unknown name CHEKS: did you mean CHECKS?"),
    ("CHECKS = [", "CHECKS = []\nX = [", 19, "CHECKS must be a non-empty list"),
    ("    Check(\"scale\", \"small_vector\"", "    \"oops\",\n    Check(\"scale\", \"small_vector\"", 21, "CHECKS[0] is a str, not a Check"),
    ("scale_probe, args=", "\"scale_probe\", args=", 21, "its probe is a str, not a function"),
    ("rules=[Close(", "rules=[\"value\", Close(", 21, "'value' is not a Rule"),
    ("def scale_probe(student, x, factor):", "def scale_probe(student, x, factor)", 15, "syntax error"),
    ("LIMITS = Limits(", "LIMITS = 1 / 0 + Limits(", 12, "ZeroDivisionError"),
    ("LIMITS = Limits(check_timeout_s=30, cell_timeout_s=60)", "LIMITS = 30", 12, "LIMITS is a int, not a Limits"),
])
def test_a_broken_public_check_file_names_its_file_and_line(course, old, new, line, words):
    checks = course / "assignments" / NAME / "checks.py"
    _edit(checks, old, new)
    with pytest.raises(CheckFileError) as err:
        _assignment(course).checkset(hidden=True)
    assert err.value.path == str(checks) and err.value.line == line and words in err.value.message, str(err.value)
    assert str(err.value).startswith(f"{checks}:{line}: ")


def test_a_broken_hidden_or_mistake_file_is_named_too(course):
    hidden = course / "solutions" / NAME / "hidden_checks.py"
    _edit(hidden, "CHECKS = [", "LIMITS = None\nCHECKS = [")
    with pytest.raises(CheckFileError, match="LIMITS has no effect in a hidden file"):
        _assignment(course).checkset(hidden=True)
    _edit(hidden, "LIMITS = None\n", "")
    mistakes = course / "solutions" / NAME / "mistakes.py"
    _edit(mistakes, 'Mistake("scale"', 'Mistake("scael"')
    with pytest.raises(CheckFileError, match="mistake adds_factor: no check of exercise 'scael'"):
        _assignment(course).checkset(hidden=True)


def test_cli_reports_a_check_file_error_in_one_line_with_exit_1(run_cli, course):
    _edit(course / "assignments" / NAME / "checks.py", "CHECKS = [", "CHEKS = [")
    proc = run_cli("validate", NAME, "--static", cwd=course)
    assert proc.returncode == 1, proc.stderr
    assert "checks.py:19: unknown name CHEKS: did you mean CHECKS?" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_cli("grade", NAME, course, cwd=course)
    assert proc.returncode == 1 and "did you mean CHECKS?" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------- validate: the static defects


def test_validate_reports_test_cell_points_that_differ_from_the_checks(course):
    _set_cell(course, "test_scale", points=5)
    assert static_problems(_assignment(course)) == [
        "exercise scale: its test cell is worth 5 points but its checks are worth 2: set the cell's points "
        "to 2 or change the checks"]


def test_validate_reports_an_answer_cell_without_checks(course):
    path = course / "solutions" / NAME / f"{NAME}.ipynb"
    nb = nbformat.read(path, 4)
    extra = nbformat.v4.new_code_cell("def shift(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION")
    extra.metadata["nbgrader"] = {"grade": False, "grade_id": "answer_shift", "locked": False,
                                  "schema_version": 3, "solution": True}
    nb.cells.append(extra)
    nbformat.write(nb, path)
    problems = static_problems(_assignment(course))
    assert problems == ['answer cell answer_shift has no checks: add a Check("shift", ...) to checks.py or '
                        'hidden_checks.py']


def test_validate_reports_a_notebook_of_another_assignment(course):
    path = course / "solutions" / NAME / f"{NAME}.ipynb"
    nb = nbformat.read(path, 4)
    nb.metadata["autograder"]["assignment"] = "01_tf_basics"
    nbformat.write(nb, path)
    assert "not '04_scale' (copied from another assignment?)" in static_problems(_assignment(course))[0]


def test_validate_reports_a_hidden_check_whose_shown_name_quotes_its_input(course):
    hidden = course / "solutions" / NAME / "hidden_checks.py"
    _edit(hidden, '"negative_factor"', '"factor_minus_3"')
    _edit(hidden, "hidden=True)", "hidden=True, name_shown=True)")
    problems = static_problems(_assignment(course))
    assert problems == ["hidden check scale.factor_minus_3 is shown to students by its name (name_shown=True), "
                        "which quotes its input(s) -3: rename it or drop name_shown"]
    _edit(hidden, '"factor_minus_3"', '"negative_factor"')  # a name that tells nothing is fine
    assert static_problems(_assignment(course)) == []


def test_validate_reports_hidden_inputs_students_already_know(course):
    _edit(course / "solutions" / NAME / "hidden_checks.py", "args=([-4.0, 0.5, 10.0], -3.0)", "args=([1.0, 2.0, 3.0], 2.0)")
    assert static_problems(_assignment(course)) == [
        "hidden check scale.negative_factor has the same inputs as public check scale.small_vector: students "
        "know them; give it inputs of its own"]


def test_quoted_inputs_ignores_zero_and_one_and_reads_strings():
    from autograder.checks.spec import Check

    probe = lambda student: {}  # noqa: E731
    assert quoted_inputs(Check("f", "layer_1_of_0", probe, args=(1, 0, 2.5))) == []
    assert quoted_inputs(Check("f", "rate_2.5", probe, args=(2.5,))) == ["2.5"]
    assert quoted_inputs(Check("f", "with_relu", probe, args=("relu",))) == ["'relu'"]
    assert quoted_inputs(Check("f", "x", probe, args=(7,), explain="never shown: 7")) == []


def test_validate_reports_a_stale_student_notebook(course, monkeypatch, capsys):
    from autograder import cli
    from autograder.assignments.student_files import releasable, render, student_version
    from autograder.files import write_json

    a = _assignment(course)
    # A release without a sandbox: reference values are not read by the static part.
    refs = releasable(a, {"checks": {c.id: {} for c in a.checkset(hidden=False).checks}, "mistakes": {}})
    write_json(a.public_reference, refs)
    a.student_notebook.write_text(render(student_version(a, refs)))
    assert static_problems(a) == []
    _edit(course / "assignments" / NAME / "checks.py", "args=([1.0, 2.0, 3.0], 2.0)", "args=([1.0, 2.0, 4.0], 2.0)")
    assert static_problems(_assignment(course)) == [
        f"{NAME}.ipynb is stale (not what release writes now): run `autograder release {NAME}`"]
    # The commands in this process (a subprocess each cost seconds, importing nbgrader again).
    monkeypatch.delenv("AUTOGRADER_COURSE", raising=False)
    monkeypatch.chdir(course)
    assert cli.main(["validate", NAME, "--static"]) == 1 and "is stale" in capsys.readouterr().err
    assert cli.main(["release", NAME, "--check"]) == 1


def test_release_refuses_an_assignment_with_static_problems(course):
    from autograder.assignments.release import ReleaseError, release

    _set_cell(course, "test_scale", points=5)
    with pytest.raises(ReleaseError, match="not ready to release:\n  exercise scale: its test cell is worth 5"):
        release(_assignment(course), sandbox=None)


def test_release_writes_the_assignment_key_into_the_student_notebook(course):
    from autograder.assignments.student_files import student_version

    path = course / "solutions" / NAME / f"{NAME}.ipynb"
    nb = nbformat.read(path, 4)
    del nb.metadata["autograder"]
    nbformat.write(nb, path)
    a = _assignment(course)
    refs = {"checks": {}, "mistakes": {}, "points": {}}
    assert student_version(a, refs).metadata["autograder"]["assignment"] == NAME


# ---------------------------------------------------------------- data files, course.toml


def test_data_files_are_listed_by_name_next_to_checks_py(course):
    checks = course / "assignments" / NAME / "checks.py"
    _edit(checks, "LIMITS = Limits(", 'DATA = ["points.csv"]\nLIMITS = Limits(')
    with pytest.raises(CheckFileError, match="DATA: points.csv is not a file in"):
        _assignment(course).checkset(hidden=True)
    (checks.parent / "points.csv").write_text("x\n1\n")
    assert _assignment(course).checkset(hidden=True).data == [("points.csv", str(checks.parent / "points.csv"))]
    version = _assignment(course).version
    (checks.parent / "points.csv").write_text("x\n2\n")
    assert _assignment(course).version != version  # cached reference values follow the data
    for bad in ("../../solutions/04_scale/hidden_checks.py", "./points.csv", "points.csv/"):
        _edit(checks, 'DATA = ["points.csv"]', f'DATA = ["{bad}"]')
        with pytest.raises(CheckFileError, match="must be a plain file name next to checks.py"):
            _assignment(course).checkset(hidden=True)
        _edit(checks, f'DATA = ["{bad}"]', 'DATA = ["points.csv"]')
    _edit(checks, 'DATA = ["points.csv"]', 'DATA = ["points.csv", "points.csv"]')
    with pytest.raises(CheckFileError, match="DATA lists a file twice"):
        _assignment(course).checkset(hidden=True)


def test_emptied_optional_files_and_the_authors_own_constants_are_fine(course):
    _edit(course / "solutions" / NAME / "hidden_checks.py", "CHECKS = [", "CHECKS = []\n_UNUSED = [")
    _edit(course / "solutions" / NAME / "mistakes.py", "MISTAKES = [", "MISTAKES = []\n_UNUSED = [")
    _edit(course / "assignments" / NAME / "checks.py", "LIMITS = Limits(", "DATE = 2026\nLIMIT = 3\nLIMITS = Limits(")
    checks = _assignment(course).checkset(hidden=True)
    assert [c.id for c in checks.checks] == ["scale.small_vector"] and checks.mistakes == []


def test_course_toml_packages_reach_pip_and_the_image_build(run_cli, tmp_path):
    (tmp_path / "assignments").mkdir()
    (tmp_path / "course.toml").write_text('[sandbox]\npackages = ["pandas==2.2.3", "scikit-learn>=1.5,<2"]\n')
    proc = run_cli("packages", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.split("\n")[:2] == ["pandas==2.2.3", "scikit-learn>=1.5,<2"]
    proc = run_cli("packages", "--install", "--dry-run", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("-m pip install pandas==2.2.3 'scikit-learn>=1.5,<2'")
    proc = run_cli("image", "build", "--dry-run", cwd=tmp_path)
    assert proc.returncode == 0 and "--build-arg 'EXTRA_PACKAGES=pandas==2.2.3 scikit-learn>=1.5,<2'" in proc.stdout
    proc = run_cli("image", "build", "--offline", "--dry-run", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("EXTRA_PACKAGES='pandas==2.2.3 scikit-learn>=1.5,<2' bash ")
    (tmp_path / "course.toml").write_text('[sandbox]\npackages = ["--index-url=http://evil/"]\n')
    proc = run_cli("packages", "--install", cwd=tmp_path)
    assert proc.returncode == 2 and "is not a pip requirement" in proc.stderr
    (tmp_path / "course.toml").write_text('[sandbox]\npackage = ["pandas"]\n')
    proc = run_cli("packages", cwd=tmp_path)
    assert proc.returncode == 2 and "unknown setting(s) package" in proc.stderr


def test_the_dockerfile_installs_the_extra_packages():
    text = (ROOT / "docker" / "Dockerfile").read_text()
    assert 'ARG EXTRA_PACKAGES=""' in text and text.count('"$TF_PACKAGE" $EXTRA_PACKAGES') == 2
    assert "$EXTRA_PACKAGES" in (ROOT / "docker" / "build-offline.sh").read_text()


# ---------------------------------------------------------------- the engine apart from the course


def test_the_engine_wheel_holds_no_course(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("tf_autograder-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "autograder/cli.py" in names and "autograder/authoring.py" in names
    assert not [n for n in names if n.startswith(("assignments/", "solutions/", "examples/", "tests/"))
                or "/solutions/" in n or n.endswith(".ipynb")]


def test_an_installed_engine_outside_a_course_says_where_courses_come_from(tmp_path):
    import shutil

    site = tmp_path / "site"
    shutil.copytree(ROOT / "autograder", site / "autograder")  # as pip installs it: no course beside it
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_COURSE"}
    proc = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", "01_tf_basics", "x.ipynb"], cwd=empty,
                          env={**env, "PYTHONPATH": str(site)}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "no course folder here" in proc.stderr and "autograder new NAME" in proc.stderr
    scaffold(empty, NAME)
    proc = subprocess.run([sys.executable, "-m", "autograder.cli", "validate", NAME, "--static"], cwd=empty,
                          env={**env, "PYTHONPATH": str(site)}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "ready to release and grade" in proc.stdout, proc.stderr


# ---------------------------------------------------------------- validate: what needs a run


@pytest.mark.slow
def test_validate_runs_the_solution_the_mistakes_and_the_stubs(run_cli, course):
    mistakes = course / "solutions" / NAME / "mistakes.py"
    # A "mistake" that is the solution written another way: it loses no points at all.
    _edit(mistakes, "MISTAKES = [", 'MISTAKES = [\n    Mistake("scale", "not_a_mistake", "same as the solution", """\n'
          'def scale(x, factor):\n    return np.multiply(np.asarray(x, dtype=np.float32), np.float32(factor))\n"""),')
    # A probe that catches the stub's NotImplementedError itself: the stub scores a point.
    checks = course / "assignments" / NAME / "checks.py"
    _edit(checks, "CHECKS = [", '''def guarded_probe(student, x, factor):
    try:
        student.scale(x, factor)
    except Exception:
        pass
    return {"ran": True}


CHECKS = [
    Check("scale", "always", guarded_probe, args=([5.0], 5.0), rules=[Equal("ran")], points=1),''')
    _edit(checks, "import Check, Close, Limits", "import Check, Close, Equal, Limits")
    _set_cell(course, "test_scale", points=3)
    proc = run_cli("validate", NAME, cwd=course)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.startswith(f"{NAME}: ")]
    assert lines == [
        f"{NAME}: known mistake not_a_mistake passes every check of scale: it loses no points; add a check with "
        "an input that catches it",
        f"{NAME}: the student notebook's unfinished stubs score 1 points: checks scale.always pass without any work",
    ], proc.stderr
    assert proc.stdout.strip().endswith("2 problem(s)")  # the mistake once, not once per kind


@pytest.mark.slow
def test_validate_reports_a_solution_that_fails_and_a_stale_public_reference(run_cli, course):
    assert run_cli("release", NAME, cwd=course).returncode == 0
    assert run_cli("validate", NAME, cwd=course).returncode == 0
    # The solution changes after the release: the shipped reference values are stale.
    _set_cell(course, "answer_scale", source="def scale(x, factor):\n    ### BEGIN SOLUTION\n"
              "    return np.asarray(x, dtype=np.float32) * np.float32(factor) + np.float32(1)\n"
              "    ### END SOLUTION")
    proc = run_cli("validate", NAME, cwd=course)
    assert proc.returncode == 1
    assert "public_reference.json is stale: the solution's values of scale.small_vector changed" in proc.stderr
    # A solution that raises does not get full marks.
    _set_cell(course, "answer_scale", source="def scale(x, factor):\n    ### BEGIN SOLUTION\n"
              "    raise ValueError('oops')\n    ### END SOLUTION")
    proc = run_cli("validate", NAME, cwd=course)
    assert proc.returncode == 1 and "the solution does not get full marks" in proc.stderr
