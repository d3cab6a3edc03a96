"""The CLI contract: usage errors, `check`, and the student-side public checks."""

import json

import nbformat
import pytest

from autograder.assignments.course import find_assignment
from tests import nbfactory

A = "01_tf_basics"


@pytest.mark.parametrize("args, words", [
    (["grade", "no_such_assignment", "x.ipynb"], "unknown assignment"),
    (["grade", A, "/no/such/file.ipynb"], "no such file or folder"),
    (["grade", A, ".", "--jobs", "0"], "--jobs must be at least 1"),
    (["grade", A], "the following arguments are required"),
    (["check", A, "/no/such.ipynb"], "no such file"),
    (["grade", A, "x.ipynb", "--backend", "podman"], "invalid choice"),
])
def test_usage_errors_exit_2_with_a_message(run_cli, args, words):
    proc = run_cli(*args)
    assert proc.returncode == 2 and words in proc.stderr and proc.stdout == ""


def test_empty_folder_is_a_usage_error(run_cli, tmp_path):
    proc = run_cli("grade", A, tmp_path)
    assert proc.returncode == 2 and "no .ipynb submissions" in proc.stderr


def test_assignment_can_be_given_as_a_folder():
    a = find_assignment(str(nbfactory.ROOT / "assignments" / A))
    assert a.name == A and a.solution_dir == nbfactory.ROOT / "solutions" / A


@pytest.mark.slow
def test_check_passes_the_solution_and_explains_the_stub(run_cli, tmp_path):
    good = nbfactory.make(tmp_path / "good.ipynb", A)
    proc = run_cli("check", A, good)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "8 of 8 exercises pass their public checks" in proc.stdout
    report = proc.stdout.split("exercises pass")[0]
    assert "    - " not in report and "hidden check " not in report  # no hidden check is run or shown
    assert "[PASS] eager_linear: 1/1 checks passed (worth 2 points: 1 in public checks, 1 in hidden checks)" in report

    wrong = nbfactory.make(tmp_path / "wrong.ipynb", A, answers={
        "eager_linear": "def eager_linear(x, w, b):\n    return x * w"}, solved=True)
    proc = run_cli("check", A, wrong)
    assert proc.returncode == 1
    assert "[FAIL] eager_linear" in proc.stdout and "expected 7.5" in proc.stdout
    assert "7 of 8 exercises" in proc.stdout
    # By default the exercises are checked in two runs side by side; one run, in order, says the same.
    one_run = run_cli("check", A, wrong, "--runs", "1")
    assert (one_run.returncode, one_run.stdout) == (proc.returncode, proc.stdout)

    proc = run_cli("check", A, nbfactory.ROOT / "assignments" / A / f"{A}.ipynb")
    assert proc.returncode == 1 and proc.stdout.count("is not implemented yet") == 8


@pytest.mark.slow
def test_committed_public_reference_is_up_to_date(cache_dir):
    from autograder.runs.reference import compute_references
    from autograder.sandbox.local import LocalSandbox

    assignment = find_assignment(A)
    sandbox = LocalSandbox(warm=True)
    sandbox.prepare()  # as the CLI does: the warm worker starts importing at once, unwaited
    early = sandbox.warm.proc.pid
    assert not sandbox.warm.ready
    try:
        fresh = compute_references(assignment, assignment.checkset(hidden=False), sandbox, hidden=False)
        assert sandbox.warm.ready and sandbox.warm.proc.pid == early, "the runs used the early server"
    finally:
        if sandbox.warm is not None:
            sandbox.warm.close()  # the warm worker belongs to this test, not to the session
    from autograder.assignments.student_files import releasable

    assert json.loads(json.dumps(releasable(assignment, fresh))) == assignment.load_public_reference(), \
        f"run `autograder release {A}` and commit the result"


@pytest.mark.slow
def test_notebook_checks_run_with_nothing_but_tensorflow(tmp_path):
    """The in-notebook check cells in a plain Jupyter kernel: the solution passes them all, and
    the stub runs to the end (tests/test_notebook_checks.py compares them with `check`)."""
    from nbclient import NotebookClient

    solved = nbformat.read(nbfactory.make(tmp_path / "s.ipynb", A), as_version=4)
    NotebookClient(solved, timeout=300, kernel_name="python3").execute()
    outputs = "".join(o.get("text", "") for c in solved.cells if c.cell_type == "code" for o in c.outputs)
    assert outputs.count("[PASS] ") == 16 and "[FAIL]" not in outputs  # each check cell, then the summary
    assert "8 of 8 exercises pass their public checks." in outputs

    stub = nbfactory.student_notebook(A)
    NotebookClient(stub, timeout=300, kernel_name="python3").execute()  # raises on any error
    outputs = "".join(o.get("text", "") for c in stub.cells if c.cell_type == "code" for o in c.outputs)
    assert outputs.count("is not implemented yet") == 16 and "0 of 8 exercises" in outputs


def test_the_cli_starts_without_building_an_unused_uri_grammar():
    """jsonschema's optional IRI checker (rfc3987_syntax) cost ~2.6 s of every command."""
    import subprocess
    import sys

    code = ("import sys, time; t = time.monotonic(); import autograder.cli, autograder.notebooks.reading; "
            "import nbformat.validator; print(sys.modules.get('rfc3987_syntax') is None, time.monotonic() - t)")
    unused, seconds = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                     check=True).stdout.split()
    assert unused == "True", "rfc3987_syntax was imported"
    print(f"import autograder.cli: {float(seconds):.2f} s")
