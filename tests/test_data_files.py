"""An assignment's data file (DATA in checks.py) in the sandbox, on both backends: the
notebook reads it from its working folder, and cannot write it."""

import json

import nbformat
import pytest

from autograder.assignments.scaffold import scaffold

NAME = "05_points"

# The instructor's notebook: the answer reads the CSV next to the notebook.
SETUP = "import numpy as np"
SOLUTION = '''def column_mean(path):
    """The mean of the CSV file's column y (one header line), as a float."""
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    return float(data[:, 1].mean())'''

# Tries to open the data file for writing (never writes: nothing is damaged when it can),
# and says whether it could through its answer: 1000 more when the file was writable.
HOSTILE = '''def column_mean(path):
    import os
    writable = 0
    for how in ("r+", "a"):
        try:
            with open(path, how):
                writable = 1000
        except OSError:
            pass
    try:
        os.chmod(os.path.realpath(path), 0o666)
        writable = 1000
    except OSError:
        pass
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    return float(data[:, 1].mean()) + writable'''

CHECKS = '''from autograder.authoring import Check, Close

DATA = ["points.csv"]


def mean_probe(student, path):
    return {"mean": student.column_mean(path)}


CHECKS = [Check("column_mean", "points", mean_probe, args=("points.csv",), rules=[Close("mean")], points=1)]
'''


@pytest.fixture
def course(tmp_path):
    plain = nbformat.v4.new_notebook()
    plain.cells = [nbformat.v4.new_code_cell(SETUP), nbformat.v4.new_code_cell(SOLUTION)]
    nbformat.write(plain, tmp_path / "plain.ipynb")
    scaffold(tmp_path, NAME, tmp_path / "plain.ipynb")
    release_dir = tmp_path / "assignments" / NAME
    (release_dir / "checks.py").write_text(CHECKS)
    (release_dir / "points.csv").write_text("x,y\n0,1.5\n1,2.5\n2,5.0\n")
    return tmp_path


def _submissions(course):
    subs = course / "subs"
    subs.mkdir()
    nb = nbformat.read(course / "assignments" / NAME / f"{NAME}.ipynb", 4)
    for student, source in (("solved", SOLUTION), ("hostile", HOSTILE)):
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "answer_column_mean")
        cell.source = source
        nbformat.write(nb, subs / f"{student}.ipynb")
    return subs


def _grade(run_cli, course, *options, env=None):
    import shutil

    if not (course / "assignments" / NAME / f"{NAME}.ipynb").exists():
        proc = run_cli("release", NAME, cwd=course)
        assert proc.returncode == 0, proc.stderr
    shutil.rmtree(course / "subs", ignore_errors=True)
    shutil.rmtree(course / "out", ignore_errors=True)
    subs = _submissions(course)
    before = (course / "assignments" / NAME / "points.csv").read_bytes()
    proc = run_cli("grade", NAME, subs, *options, "--json", "--out", course / "out", cwd=course, env=env)
    assert proc.returncode == 0, proc.stderr
    assert (course / "assignments" / NAME / "points.csv").read_bytes() == before
    return {r["student"]: r for r in map(json.loads, proc.stdout.splitlines())}


@pytest.mark.slow
def test_a_data_file_is_readable_and_not_writable_in_the_local_sandbox(run_cli, course):
    results = _grade(run_cli, course, "--backend", "local")
    assert results["solved"]["score"] == 1.0, results["solved"]["checks"]
    # The hostile answer gets the plain mean only when it could open the file for reading only.
    assert results["hostile"]["score"] == 1.0, results["hostile"]["checks"]
    assert results["hostile"]["sandbox"]["confined"] is True
    # Unconfined (the grader's own rights), the same answer finds the file writable: the
    # check above can fail.
    results = _grade(run_cli, course, "--backend", "local", "--unconfined")
    assert results["solved"]["score"] == 1.0 and results["hostile"]["score"] == 0.0


@pytest.mark.docker
def test_a_data_file_is_readable_and_not_writable_in_docker(run_cli, course, engine):
    for warm in ("1", "0"):
        results = _grade(run_cli, course, "--backend", "docker", env={"AUTOGRADER_WARM": warm})
        assert results["solved"]["score"] == 1.0, (warm, results["solved"]["checks"])
        assert results["hostile"]["score"] == 1.0, (warm, results["hostile"]["checks"])
        assert results["hostile"]["backend"] == "docker"
