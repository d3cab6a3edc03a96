"""The core of the service's suite again on the embedded default, SQLite (its own test process:
Django's database is chosen once per process). The other files run on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

CORE = ["tests/service/test_core.py", "tests/service/test_limits.py", "tests/service/test_access.py",
        "tests/service/test_agreement.py", "tests/service/test_staff.py"]


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("AUTOGRADER_TEST_DB", "postgresql") == "sqlite", reason="this is the SQLite run")
def test_the_core_passes_on_sqlite(tmp_path):
    env = {**os.environ, "AUTOGRADER_TEST_DB": "sqlite"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp",
                           str(tmp_path / "run"), *CORE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    last = done.stdout.splitlines()[-1]
    assert " passed" in last and ("skipped" not in last or " 1 skipped" in last), last   # the PostgreSQL restart
