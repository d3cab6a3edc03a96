"""The ``local`` backend: a fresh, limited child process per submission.

For TAs without Docker. Each submission gets its own supervisor + worker
processes (see :mod:`autograder.sandbox.supervisor`), its own scratch
directory as HOME/TMPDIR/cwd, a scrubbed environment and rlimits (address
space, file size, CPU time, no core dumps); time limits and restarts come from
:mod:`autograder.sandbox.process`.

What it does *not* give (the Docker backend does): network isolation, a
filesystem where solutions are unreadable, a process-count limit for root, and
protection from a student who reads the grader's files as the same user.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from autograder.sandbox.base import Job
from autograder.sandbox.process import ProcessSandbox, Started

PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


def kill_tagged(token: str) -> int:
    """SIGKILL any process whose environment carries this run's token."""
    needle, killed = f"AUTOGRADER_SANDBOX_TOKEN={token}".encode(), 0
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as fh:
                if needle in fh.read():
                    os.kill(int(name), signal.SIGKILL)
                    killed += 1
        except OSError:
            continue
    return killed



class LocalSandbox(ProcessSandbox):
    name = "local"

    def _env(self, scratch: str, token: str, fd: int, job: Job) -> dict:
        limits = job.limits
        return {
            "PATH": os.path.dirname(sys.executable) + ":/usr/local/bin:/usr/bin:/bin",
            "HOME": scratch,
            "TMPDIR": scratch,
            "LANG": "C.UTF-8",
            "PYTHONPATH": PACKAGE_PARENT,
            "PYTHONHASHSEED": "0",
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "MPLBACKEND": "Agg",
            "AUTOGRADER_SANDBOX_TOKEN": token,
            "AUTOGRADER_PASS_FDS": str(fd),
            "AUTOGRADER_LIMITS": json.dumps({
                "memory_mb": limits.memory_mb,
                "cpu_s": int(limits.total_timeout_s) + 30,
            }),
        }

    def _start(self, job: Job, workdir: str, scratch: str, job_data: dict, token: str) -> Started:
        job_path = os.path.join(workdir, "job.json")
        with open(job_path, "w") as fh:
            json.dump(job_data, fh)
        read_fd, write_fd = os.pipe()
        cmd = [sys.executable, "-m", "autograder.sandbox.supervisor",
               sys.executable, "-m", "autograder.sandbox.worker", job_path, str(write_fd)]
        proc = subprocess.Popen(
            cmd, cwd=scratch, env=self._env(scratch, token, write_fd, job),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=(write_fd,), start_new_session=True)
        os.close(write_fd)
        return Started(proc, read_fd, proc.stdout, token)

    def _stop(self, started: Started) -> None:
        proc = started.proc
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)  # the supervisor kills its whole tree
                proc.wait(timeout=3)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        kill_tagged(started.token)
