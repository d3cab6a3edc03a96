"""Batches on a Dask cluster (autograder.runs.cluster): the same gradebook as threads, nothing lost
when a worker dies, and only the calling process writes.

The first tests run an in-process LocalCluster (threads) with the fake sandbox: seconds.
The slow ones start real worker processes that grade with TensorFlow."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from autograder.runs import cluster
from autograder.runs.batch import run_batch
from autograder.assignments.course import find_assignment
from autograder.runs.grading import Grader
from autograder.lms.intake import Item
from autograder.outputs.result_files import ResultStore
from autograder.settings import Settings
from tests import fakes, nbfactory
from tests.conftest import ROOT, processes_of_grader
from tests.corpus import tf_basics

distributed = pytest.importorskip("distributed")


@pytest.fixture
def course(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_CACHE", str(tmp_path / "cache"))
    fakes.course(tmp_path / "course")
    return find_assignment(fakes.NAME, tmp_path / "course")


@pytest.fixture
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as lc, \
            distributed.Client(lc) as c:
        yield c


def test_a_dask_batch_stores_what_a_thread_batch_stores_and_ships_no_output_path(course, client, tmp_path,
                                                                                  monkeypatch):
    answers = {"bob": {fakes.PUBLIC: fakes.WRONG}, "cy": {fakes.HIDDEN: fakes.WRONG}}
    on_workers = []
    monkeypatch.setattr(cluster, "sandbox_for", lambda spec: on_workers.append(fakes.FakeSandbox(answers))
                        or on_workers[-1])
    cluster._GRADERS.clear()
    students = ["ada", "bob", "cy", "dee"]
    items = [Item(course.solution_notebook, s, name=s.title()) for s in students]

    threads = ResultStore(tmp_path / "threads")
    run_batch(Grader(course, fakes.FakeSandbox(answers)), items, threads, 2, False, lambda r: None)

    sent = []
    submit = client.submit
    monkeypatch.setattr(client, "submit", lambda fn, *args, **kw: sent.append(args) or submit(fn, *args, **kw))
    out = tmp_path / "dask"
    spec = cluster.GraderSpec(course, course.version, Settings(backend="fake"))
    on_dask = ResultStore(out)
    results = run_batch(Grader(course, fakes.FakeSandbox(answers)), items, on_dask, 2, False, lambda r: None,
                        cluster.DaskRunner(client, spec))

    def rows(store):
        return [(r["student"], r["name"], r["status"], r["score"], [(c["id"], c["passed"]) for c in r["checks"]])
                for r in store.gradebook.results(fakes.NAME)]

    assert rows(on_dask) == rows(threads) and len(rows(on_dask)) == 4
    assert sorted(r.score for r in results) == [1.0, 1.0, 2.0, 2.0]
    assert len(sent) == 4  # one task per submission, and none carries where results are written
    assert all(str(out) not in repr(args) for args in sent)
    assert all(isinstance(args[2], Item) for args in sent)
    # The reference came from the caller: no worker ran the solution.
    assert on_workers and not any(j.label.endswith("(solution)") for s in on_workers for j in s.jobs)


def test_a_task_the_cluster_cannot_run_is_an_error_result_never_stored(course, client, tmp_path, monkeypatch):
    def broken(spec):
        raise RuntimeError("no sandbox on this worker")

    monkeypatch.setattr(cluster, "sandbox_for", broken)
    cluster._GRADERS.clear()
    store = ResultStore(tmp_path / "out")
    spec = cluster.GraderSpec(course, course.version, Settings(backend="fake"))
    results = run_batch(Grader(course, fakes.FakeSandbox()), [Item(course.solution_notebook, "ada")], store, 1,
                        False, lambda r: None, cluster.DaskRunner(client, spec))
    assert results[0].status == "error" and "no sandbox on this worker" in results[0].message
    assert store.gradebook.results(fakes.NAME) == []


@pytest.mark.parametrize("forge", [{"student": "mallory"}, {"sha256": "0" * 64}])
def test_a_result_that_is_not_the_items_is_an_error_never_stored(course, client, tmp_path, monkeypatch, forge):
    monkeypatch.setattr(cluster, "sandbox_for", lambda spec: fakes.FakeSandbox())
    cluster._GRADERS.clear()
    real = cluster.grade_task

    def forged(spec, references, item):
        data = real(spec, references, item)
        data["result"].update(forge, score=data["result"]["max_score"])
        return data

    monkeypatch.setattr(cluster, "grade_task", forged)
    store = ResultStore(tmp_path / "out")
    spec = cluster.GraderSpec(course, course.version, Settings(backend="fake"))
    results = run_batch(Grader(course, fakes.FakeSandbox()), [Item(course.solution_notebook, "ada")], store, 1,
                        False, lambda r: None, cluster.DaskRunner(client, spec))
    assert results[0].status == "error" and results[0].student == "ada"
    assert "not this submission" in results[0].message or "not the one here" in results[0].message
    assert store.gradebook.results(fakes.NAME) == []


def test_a_worker_with_another_course_version_refuses(course, client, monkeypatch):
    monkeypatch.setattr(cluster, "sandbox_for", lambda spec: fakes.FakeSandbox())
    cluster._GRADERS.clear()
    spec = cluster.GraderSpec(course, "0000000000000000", Settings(backend="fake"))
    with pytest.raises(RuntimeError, match="not the caller's"):
        cluster.grade_task(spec, [{}], Item(course.solution_notebook, "ada"))


# ------------------------------------------------------------------------------- real workers
A = "01_tf_basics"


def _corpus(folder):
    return nbfactory.corpus(folder, A, tf_basics)


def _gradebook(out):
    db = sqlite3.connect(out / "gradebook.sqlite")
    rows = db.execute("SELECT student, status, score, checks, sha256 FROM grades ORDER BY student").fetchall()
    db.close()
    # limit_s follows the machine's load when each check ran: not part of the verdict
    return [(s, st, sc, [{k: v for k, v in c.items() if k != "limit_s"} for c in json.loads(ch)], sha)
            for s, st, sc, ch, sha in rows]


@pytest.mark.slow
def test_dask_local_grades_the_corpus_like_threads(tmp_path, run_cli):
    subs = _corpus(tmp_path / "subs")
    threads = run_cli("grade", A, subs, "--jobs", "2", "--out", tmp_path / "threads", "--backend", "local")
    assert threads.returncode == 0, threads.stderr[-2000:]
    on_dask = run_cli("grade", A, subs, "--dask-local", "2", "--out", tmp_path / "dask", "--backend", "local")
    assert on_dask.returncode == 0, on_dask.stderr[-2000:]
    expected = _gradebook(tmp_path / "threads")
    assert len(expected) == 2 + len(tf_basics.MISTAKES) + len(tf_basics.VARIATIONS)
    assert _gradebook(tmp_path / "dask") == expected


def _dask_workers(grader_pid):
    """The LocalCluster's worker processes: children of the grader started by multiprocessing."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmdline = fh.read()
        except OSError:
            continue
        if ppid == grader_pid and b"multiprocessing" in cmdline and b"resource_tracker" not in cmdline:
            found.append(int(pid))
    return found


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_nothing(tmp_path, cache_dir):
    subs = _corpus(tmp_path / "subs")
    for n in range(6):  # more work, so the kill lands while tasks are running
        nbfactory.make(subs / f"extra_{n}.ipynb", A)
    out = tmp_path / "out"
    env = {**os.environ, "AUTOGRADER_CACHE": str(cache_dir)}
    stdout_file, stderr_file = open(tmp_path / "stdout", "w+"), open(tmp_path / "stderr", "w+")  # never a full pipe
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "grade", A, str(subs), "--dask-local", "2",
                             "--out", str(out), "--backend", "local", "--json"],
                            cwd=ROOT, env=env, stdout=stdout_file, stderr=stderr_file, text=True)
    killed, seen = None, set()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        workers = _dask_workers(proc.pid)
        seen.update(workers)
        if killed is None and len(workers) == 2 and _rows(out) >= 2:
            killed = workers[0]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.2)
    proc.wait(timeout=60)
    stdout, stderr = (tmp_path / "stdout").read_text(), (tmp_path / "stderr").read_text()
    assert killed is not None, "the batch ended before a worker could be killed"
    assert proc.returncode == 0, stderr[-3000:]
    lines = [json.loads(line) for line in stdout.splitlines()]
    students = sorted(p.stem for p in subs.glob("*.ipynb"))
    assert sorted(r["student"] for r in lines) == students  # each once: none lost, none twice
    rows = sqlite3.connect(out / "gradebook.sqlite").execute(
        "SELECT student, status, score FROM grades ORDER BY student").fetchall()
    assert [r[0] for r in rows] == students and all(r[1] == "graded" for r in rows)
    full = find_assignment(A).checkset(True).max_score()
    assert {s: sc for s, _, sc in rows}["solution"] == full
    assert all({s: sc for s, _, sc in rows}[f"extra_{n}"] == full for n in range(6))
    assert len(seen) >= 3, "the killed worker was replaced"
    assert not processes_of_grader(proc.pid) and not any(processes_of_grader(w) for w in seen)  # none left behind


def _rows(out):
    if not (out / "gradebook.sqlite").exists():
        return 0
    try:
        db = sqlite3.connect(out / "gradebook.sqlite")
        return db.execute("SELECT COUNT(*) FROM grades").fetchone()[0]
    except sqlite3.OperationalError:  # not there yet
        return 0


def test_a_local_cluster_listens_on_this_machines_loopback_only():
    with cluster.dask_client(None, 1) as c:
        assert c.scheduler.address.startswith("tcp://127.0.0.1:")
        assert all(w.startswith("tcp://127.0.0.1:") for w in c.scheduler_info()["workers"])
