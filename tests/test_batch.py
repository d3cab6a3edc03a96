"""Batches for instructors: 200 submissions, SIGKILL and resume, gradebook, exports, report."""

import csv
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests import nbfactory
from tests.conftest import ROOT, json_lines, processes_of_grader

pytestmark = pytest.mark.slow

A = "01_tf_basics"
FULL = 22.0
SOL = nbfactory.solution_answers(A)
HANG = "def unique_shapes(values):\n    while True:\n        pass\n"
CRASH = "def describe_tensor(value):\n    import os\n    os._exit(1)\n"
WRONG = SOL["answer_evaluate"].replace("sess.run(tensor)", "sess.run(tensor) * 2")


def build_class(folder, n):
    """A class of n submissions and the score each must get."""
    expected = {}
    for i in range(n):
        name, kind = f"s{i:03d}", i % 10
        path = folder / f"{name}.ipynb"
        if kind == 0:
            nbfactory.make(path, A, solved=False)
            expected[name] = 0.0
        elif kind == 1:
            nbfactory.make(path, A, answers={"evaluate": WRONG})
            expected[name] = FULL - 3
        elif kind == 2:  # the pathological tenth: hangs, crashes, malformed files
            choice = (i // 10) % 3
            if choice == 0:
                nbfactory.make(path, A, answers={"unique_shapes": HANG})
                expected[name] = FULL - 2
            elif choice == 1:
                nbfactory.make(path, A, answers={"describe_tensor": CRASH})
                expected[name] = FULL - 3
            else:
                path.write_text('{"nbformat": 4, "cells": [')
                expected[name] = "invalid"
        else:
            nbfactory.make(path, A)
            expected[name] = FULL
    return expected


def grade(run_cli, folder, out, *extra):
    return run_cli("grade", A, folder, "--json", "--jobs", "2", "--backend", "local", "--out", out,
                   "--check-timeout", "3", *extra)


@pytest.fixture(scope="module")
def class_of_200(tmp_path_factory, run_cli):
    """A class of 200 graded once, uninterrupted: its own test checks the scores, and the
    SIGKILL test takes its first KILLED rows as the reference (the same files, graded alone)."""
    folder, out = tmp_path_factory.mktemp("class"), tmp_path_factory.mktemp("class_out")
    expected = build_class(folder, 200)
    started = time.monotonic()
    proc = grade(run_cli, folder, out)
    return {"expected": expected, "proc": proc, "folder": folder, "out": out, "wall": time.monotonic() - started}


def test_a_class_of_200_grades_to_the_expected_scores(class_of_200):
    expected, proc, out, wall = (class_of_200[k] for k in ("expected", "proc", "out", "wall"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json_lines(proc.stdout)
    assert len(results) == 200
    wrong = {s: (results[s]["status"], results[s]["score"], want) for s, want in expected.items()
             if (results[s]["status"] == "invalid") != (want == "invalid")
             or (want != "invalid" and results[s]["score"] != want)}
    assert not wrong, wrong
    db = sqlite3.connect(out / "gradebook.sqlite")
    assert db.execute("SELECT COUNT(*) FROM grades").fetchone()[0] == 200
    assert "200 submissions" not in proc.stdout  # the summary goes to stderr, never into --json output
    assert "graded" in proc.stderr and "mean score" in proc.stderr
    print(f"\n200-submission batch, --jobs 2, local backend: {wall:.1f} s")


def _snapshot(path):
    db = sqlite3.connect(path)
    rows = db.execute("SELECT student, status, score, checks FROM grades ORDER BY student").fetchall()
    db.close()
    return [(s, st, sc, [(c["id"], c["passed"]) for c in json.loads(ch)]) for s, st, sc, ch in rows]


def _rows(out):
    try:
        return len(_snapshot(out / "gradebook.sqlite")) if (out / "gradebook.sqlite").exists() else 0
    except sqlite3.OperationalError:  # the grader is still creating its tables
        return 0


KILLED = 60   # the batch the SIGKILL test kills: s000-s059 of the class of 200


def test_sigkill_at_20_random_moments_then_resume_gives_identical_results(tmp_path, class_of_200, cache_dir):
    folder = tmp_path / "class"
    expected = build_class(folder, KILLED)  # enough work that all 20 kills land inside a running batch
    # The reference: the same files (build_class is deterministic: s000-s059 of the class
    # of 200, byte for byte) graded without interruption, in that batch; each submission is
    # graded on its own, so its row does not depend on what else the batch held.
    assert class_of_200["proc"].returncode == 0
    reference = [row for row in _snapshot(class_of_200["out"] / "gradebook.sqlite") if row[0] in expected]
    assert len(reference) == len(expected)
    assert all((folder / f"{s}.ipynb").read_bytes() == (class_of_200["folder"] / f"{s}.ipynb").read_bytes()
               for s in expected)

    out = tmp_path / "killed"
    tmpdir = tmp_path / "tmpdir"  # the killed graders' own: what they leave is looked at below
    tmpdir.mkdir()
    env = {**os.environ, "AUTOGRADER_CACHE": str(cache_dir), "TMPDIR": str(tmpdir)}
    cmd = [sys.executable, "-m", "autograder.cli", "grade", A, str(folder), "--json", "--jobs", "2",
           "--backend", "local", "--out", str(out), "--check-timeout", "3"]
    # The moments are drawn in units of this machine's speed (CI machines differ a lot, and
    # the other test process may be loading it): the first kill lands just after the first
    # result is stored, which measures the start-up; then kills alternate between a random
    # moment in the start-up and a random moment in the grading after it. The latter waits
    # until this run has stored a result of its own, so a run slowed down by a busy machine
    # still gets killed while it grades, and the window is kept short enough that work is
    # left at the last kill.
    victim = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started, kills = time.monotonic(), 0
    while _rows(out) == 0 and victim.poll() is None and time.monotonic() - started < 300:
        time.sleep(0.05)
    startup = time.monotonic() - started
    if victim.poll() is None:
        victim.send_signal(signal.SIGKILL)
        kills += 1
    victim.wait()
    rows = [_rows(out)]
    assert rows[0] > 0, "the first run stored nothing"
    # The uninterrupted grading of KILLED after its start-up: that share of the class of 200's.
    window = 0.03 * max((class_of_200["wall"] - startup) * KILLED / 200, 1.0)  # 10 windows: about 30% of the batch
    rng = random.Random(7)
    victims = [victim.pid]
    for i in range(19):
        victim = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        victims.append(victim.pid)
        if i % 2:
            time.sleep(rng.uniform(0.3, startup))
        else:
            launched = time.monotonic()
            while _rows(out) == rows[-1] and victim.poll() is None and time.monotonic() - launched < 300:
                time.sleep(0.05)
            time.sleep(rng.uniform(0, window))
        if victim.poll() is None:
            victim.send_signal(signal.SIGKILL)
            kills += 1
        victim.wait()
        rows.append(_rows(out))
    timing = f"start-up {startup:.1f} s, class of 200 {class_of_200['wall']:.1f} s, rows after each kill: {rows}"
    print(f"\nSIGKILL test: {timing}")
    assert kills == 20, f"only {kills} of 20 kills landed while the batch was running ({timing})"
    assert rows[-1] < len(reference), f"the batch must still have had work left at the last kill ({timing})"
    assert any(b > a for a, b in zip(rows, rows[1:])), f"results must have been committed between kills ({timing})"
    def leftovers():  # of these graders only: another grader may run on this machine
        return [cmd for pid in victims for cmd in processes_of_grader(pid) if b"autograder.sandbox" in cmd]

    deadline = time.monotonic() + 15  # SIGKILL delivery and exit take a moment on a loaded machine
    while leftovers() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not leftovers(), "a killed grader's warm worker and runs die with it"
    # No job (a student's answers) is ever written to disk for a run to find, or left behind.
    assert not [p for p in tmpdir.rglob("*") if p.name.startswith("job")], sorted(tmpdir.rglob("*"))[:20]
    final = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr[-2000:]
    assert _snapshot(out / "gradebook.sqlite") == reference
    # A re-run of the finished batch grades nothing again.
    again = json_lines(subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True).stdout)
    assert all(r.get("reused") for r in again.values() if r["status"] == "graded")


@pytest.fixture(scope="module")
def small_batch(tmp_path_factory, run_cli):
    folder = tmp_path_factory.mktemp("small")
    out = tmp_path_factory.mktemp("small_out")
    build_class(folder, 12)
    proc = grade(run_cli, folder, out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {"folder": folder, "out": out, "results": json_lines(proc.stdout)}


def test_exports_follow_their_formats(small_batch):
    out = small_batch["out"]
    grades = list(csv.reader(io.StringIO((out / "exports" / f"{A}-grades.csv").read_text())))
    assert grades[0][:6] == ["name", "id", "sis_user_id", "sis_login_id", "section", "score"]
    assert len(grades) == 1 + len(small_batch["results"])
    checks = list(csv.DictReader(io.StringIO((out / "exports" / f"{A}-checks.csv").read_text())))
    assert set(checks[0]) == {"student", "assignment", "check", "exercise", "hidden", "passed", "points",
                              "max_points", "outcome", "message"}
    for student, result in small_batch["results"].items():
        gs = json.loads((out / "exports" / "gradescope" / A / student / "results.json").read_text())
        assert isinstance(gs["score"], float) and gs["score"] == result["score"]
        assert isinstance(gs["execution_time"], int) and gs["visibility"] == "visible"
        for test in gs["tests"]:
            assert {"name", "score", "max_score", "status", "visibility", "output"} <= set(test)
            assert test["status"] in ("passed", "failed")
            assert test["visibility"] in ("visible", "after_published")


def test_report_and_feedback_pages(small_batch, run_cli):
    out = small_batch["out"]
    proc = run_cli("report", A, "--out", out)
    assert proc.returncode == 0, proc.stderr
    page = (out / "report" / A / "index.html").read_text()
    graded = [r["score"] for r in small_batch["results"].values() if r["status"] == "graded"]
    assert f"{sum(graded) / len(graded):.2f}" in page and f"{len(small_batch['results'])} submissions" in page
    for png in ("scores.png", "exercises.png"):
        assert (out / "report" / A / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (out / "feedback" / A / "s001.html").read_text()
    assert "Score: 19 / 22" in html and "http" not in html and "<script" not in html
    data = json.loads((out / "feedback" / A / "s001.json").read_text())
    assert data["score"] == 19 and "submission" not in data


def test_overrides_survive_regrading(small_batch, run_cli):
    out = small_batch["out"]
    proc = run_cli("override", A, "s000", "5", "--reason", "late penalty waived", "--out", out)
    assert proc.returncode == 0, proc.stderr
    grade(run_cli, small_batch["folder"], out, "--force")
    rows = list(csv.DictReader(io.StringIO((out / "exports" / f"{A}-grades.csv").read_text())))
    s000 = next(r for r in rows if r["id"] == "s000")
    assert s000["score"] == "5" and s000["automatic_score"] == "0" and s000["override_reason"] == "late penalty waived"
    assert run_cli("override", A, "nobody", "5", "--reason", "x", "--out", out).returncode == 2
