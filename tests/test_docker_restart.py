"""A Docker daemon restart in the middle of a batch: runs it cut short are retried (or
reported as infrastructure errors, never stored), and no zero reaches the gradebook.

It stops and restarts the real engine (docker/ensure-engine.sh starts it again), so it
only runs where this process may do that: as root, which CI is.
"""

import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from tests import nbfactory
from tests.conftest import ROOT

# It restarts the Docker engine: no other test may have containers running meanwhile.
pytestmark = pytest.mark.serial

A = "01_tf_basics"
FULL = 22.0


def restart_engine() -> None:
    subprocess.run(["pkill", "-TERM", "-x", "dockerd"], check=False)
    deadline = time.monotonic() + 60
    while subprocess.run(["pgrep", "-x", "dockerd"], capture_output=True).returncode == 0:
        assert time.monotonic() < deadline, "dockerd did not stop"
        time.sleep(0.5)
    time.sleep(2)  # the grader sees the engine gone for a moment


@pytest.mark.docker
def test_a_daemon_restart_mid_batch_costs_no_grade(engine, tmp_path, cache_dir):
    if os.geteuid() != 0:
        pytest.skip("restarting the Docker engine needs root")
    subs = tmp_path / "subs"
    for i in range(6):  # each run lasts a few seconds, so the restart lands inside runs
        nbfactory.make(subs / f"s{i}.ipynb", A, extra=[(None, "import time\ntime.sleep(4)")])
    env = {**os.environ, "AUTOGRADER_CACHE": str(cache_dir)}
    cmd = [sys.executable, "-m", "autograder.cli", "grade", A, str(subs), "--backend", "docker", "--json",
           "--jobs", "2", "--out", str(tmp_path / "out")]
    grader = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = grader.stdout.readline()  # one result is in: the other job is mid-run
        assert first, grader.stderr.read()[-2000:]
        restart_engine()
    finally:
        subprocess.run(["bash", "docker/ensure-engine.sh"], cwd=ROOT, check=True, capture_output=True)
    rest, err = grader.communicate(timeout=600)
    results = [json.loads(line) for line in (first + rest).splitlines()]
    assert grader.returncode in (0, 1), err[-2000:]
    assert len(results) == 6
    for r in results:
        assert (r["status"], r["score"]) == ("graded", FULL) or (
            r["status"] == "error" and "infrastructure" in r["message"]), r
    logs = [p.read_text() for p in (tmp_path / "out" / "logs" / A).glob("*.log")]
    interrupted = sum("restarts=0" not in log for log in logs) + sum(r["status"] == "error" for r in results)
    assert interrupted, "the restart must have cut at least one run short"

    db = sqlite3.connect(tmp_path / "out" / "gradebook.sqlite")
    assert {score for (score,) in db.execute("SELECT score FROM grades")} <= {FULL}, "a zero was stored"
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    final = [json.loads(line) for line in again.stdout.splitlines()]
    assert [(r["status"], r["score"]) for r in final] == [("graded", FULL)] * 6


@pytest.mark.docker
def test_a_container_that_fails_to_start_is_retried_and_never_scored(engine, tmp_path, cache_dir, monkeypatch):
    """A warm container that dies before it is ready: the run is retried in a new one; when
    every start fails, the submission is an infrastructure error and nothing is stored."""
    from autograder.runs.batch import run_batch
    from autograder.lms.intake import collect
    from autograder.assignments.course import find_assignment
    from autograder.runs.grading import Grader
    from autograder.outputs.result_files import ResultStore
    from autograder.sandbox import docker

    monkeypatch.setenv("AUTOGRADER_CACHE", str(cache_dir))
    sandbox = docker.DockerSandbox(warm=True)
    grader = Grader(find_assignment(A), sandbox)
    assert grader.references()  # computed or cached before any start fails
    sandbox.close()
    real, starts = docker.serve_command, {"failing": 0, "failed": 0}

    def flaky(*args):
        cmd = real(*args)
        if starts["failed"] < starts["failing"]:
            starts["failed"] += 1
            cmd[-1] = "no-such-mode"  # the server prints its usage and exits: never "ready"
        return cmd

    monkeypatch.setattr(docker, "serve_command", flaky)
    nb = nbfactory.make(tmp_path / "s.ipynb", A)
    try:
        starts["failing"] = 1
        once = grader.grade(nb, "s").result.to_json()
        assert (once["status"], once["score"], starts["failed"]) == ("graded", FULL, 1), once
        sandbox.close()  # the next run needs a new container
        starts["failing"] = 10**6
        store = ResultStore(tmp_path / "out")
        results = [r.to_json() for r in run_batch(grader, collect([str(nb)], A)[0], store, 1, True, lambda r: None)]
    finally:
        sandbox.close()
    assert results[0]["status"] == "error" and "infrastructure" in results[0]["message"], results[0]
    assert starts["failed"] >= 3, "retried by the sandbox and again by the batch"
    assert store.gradebook.results(A) == [], "an infrastructure error is never stored"
