import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The suite runs on two processes (pytest-xdist: pyproject's addopts). Work is sent out in groups
# (the scheduler below): each file's tests stay together (its module fixtures are built once), and
# files that share a per-process cache travel as one group, so nothing is graded twice (across
# processes, test_course_corpus.grade_corpus shares what it grades through a locked file).
SHARED = {
    "corpus": ("test_course_corpus.py", "test_course_review.py"),   # the corpus graded locally (grade_corpus)
    "service": ("service/",),                # one PostgreSQL cluster and one browser
}
# The groups that take longest (measured with --durations=0) are sent first, so that neither
# process is left with a long one at the end; the others follow in their usual order.
HEAVIEST = ("corpus", "test_docker.py", "test_gradescope.py", "test_notebook_checks.py", "test_cli.py",
            "test_docker_parity.py", "test_adversarial.py[docker]", "test_adversarial.py[local]",
            "test_points_for_work.py", "test_lms.py",
            "test_batch.py", "test_time_limits_e2e.py", "test_data_files.py", "test_malformed_input.py",
            "test_lms_attacks_e2e.py", "service")


# Files whose tests are parametrised by backend, each backend's module fixture built apart (the
# adversarial catalogue graded once per backend): one group per backend.
BY_BACKEND = ("test_adversarial.py",)


def group_of(nodeid: str) -> str:
    """The group of a test: its SHARED name, or its file (relative to tests/), or its file's backend."""
    rel = nodeid.split("::", 1)[0].removeprefix("tests/")
    if rel in BY_BACKEND:
        backend = next((b for b in ("local", "docker") if f"[{b}" in nodeid), None)
        return f"{rel}[{backend}]" if backend else rel
    return next((name for name, files in SHARED.items()
                 if any(rel == f or (f.endswith("/") and rel.startswith(f)) for f in files)), rel)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(HEAVIEST)}
    items.sort(key=lambda item: rank.get(group_of(item.nodeid), len(rank)))   # stable: files keep their order


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """xdist's scope scheduling (a whole work unit to one process, in collection order), with
    this file's groups as the units."""
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    return ByGroup(config, log)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    """A reference cache of this test session only: computed once, never stale."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def run_cli(cache_dir):
    """Runs the CLI; the result also has the grader's ``pid`` (to find what it left behind)."""
    def run(*args, timeout=900, cwd=ROOT, env=None):
        env = {**os.environ, "AUTOGRADER_CACHE": str(cache_dir), **(env or {})}
        proc = subprocess.Popen([sys.executable, "-m", "autograder.cli", *map(str, args)], cwd=cwd, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
            raise
        done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
        done.pid = proc.pid
        return done
    return run


def processes_of_grader(pid: int) -> list[bytes]:
    """Command lines of live processes a grader with this pid started (its warm server, run
    supervisors and workers carry its pid in their environment), whoever else runs."""
    needle, found = f"AUTOGRADER_PARENT_PID={pid}\0".encode(), []
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{name}/environ", "rb") as fh:
                if needle not in fh.read() + b"\0":
                    continue
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                found.append(fh.read())
        except OSError:
            continue
    return found


def processes_with(*needles: bytes) -> list[bytes]:
    """Command lines of live processes that contain every needle."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmd = fh.read()
        except OSError:
            continue
        if all(n in cmd for n in needles):
            found.append(cmd)
    return found


def json_lines(stdout: str) -> dict:
    """Parse --json output strictly: every line is one JSON object."""
    results = {}
    for line in stdout.splitlines():
        obj = json.loads(line)
        assert isinstance(obj, dict)
        assert obj["student"] not in results, f"two lines for {obj['student']}"
        results[obj["student"]] = obj
    return results


@pytest.fixture(scope="session")
def engine():
    """A reachable Docker engine and the sandbox image; in CI their absence fails, never skips."""
    from autograder.sandbox import docker

    ready = docker.docker_available() and docker.image_exists(docker.DEFAULT_IMAGE)
    if not ready:
        message = f"needs a Docker engine and the {docker.DEFAULT_IMAGE} image (docker/build-offline.sh)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
