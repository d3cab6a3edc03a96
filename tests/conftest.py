import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    """A reference cache of this test session only: computed once, never stale."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def run_cli(cache_dir):
    def run(*args, timeout=900, cwd=ROOT):
        env = {**os.environ, "AUTOGRADER_CACHE": str(cache_dir)}
        return subprocess.run([sys.executable, "-m", "autograder.cli", *map(str, args)], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=timeout)
    return run


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
