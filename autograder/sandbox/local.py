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

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from autograder.sandbox.base import Job, SandboxError
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



class ForkedRun:
    """A run forked by the warm server, with the slice of the Popen API the sandbox uses."""

    def __init__(self, conn: socket.socket, pid: int):
        self.conn, self.pid = conn, pid
        self.returncode: int | None = None
        self._buffer = b""

    def _read_status(self, timeout: float | None) -> None:
        self.conn.settimeout(timeout)
        try:
            while b"\n" not in self._buffer:
                chunk = self.conn.recv(4096)
                if not chunk:
                    self.returncode = self.returncode if self.returncode is not None else -9
                    return
                self._buffer += chunk
        except (socket.timeout, BlockingIOError):
            return
        self.returncode = int(json.loads(self._buffer.split(b"\n", 1)[0])["status"])

    def poll(self) -> int | None:
        if self.returncode is None:
            self._read_status(0.0001)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self._read_status(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired("forked run", timeout)
        self.conn.close()
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class WarmServer:
    """One forkserver per sandbox: started early (:meth:`spawn`) or on first use, restarted
    if it dies."""

    def __init__(self, env: dict):
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.ready = False
        self.dir = ""
        self.lock = threading.Lock()
        atexit.register(self.close)  # once: close() ends whichever server is current

    def spawn(self) -> None:
        """Start the server without waiting: its TensorFlow import (seconds) overlaps with
        whatever the grader does before the first run."""
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                self._spawn()

    def socket_path(self) -> str:
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                self._spawn()
            if not self.ready:
                self._await_ready()
            return os.path.join(self.dir, "s")

    def _spawn(self) -> None:
        self.close()
        self.dir = tempfile.mkdtemp(prefix="autograder-warm-")
        neutral = os.path.join(self.dir, "home")
        os.mkdir(neutral)
        env = {**self.env, "HOME": neutral, "TMPDIR": neutral, "AUTOGRADER_PARENT_PID": str(os.getpid())}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.sandbox.forkserver", os.path.join(self.dir, "s")],
            cwd=neutral, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True)

    def _await_ready(self) -> None:
        line = self.proc.stdout.readline()
        if line.strip() != b"ready":
            self.close()
            raise SandboxError("the warm worker did not start")
        self.ready = True

    def close(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait()
            self.proc = None
        self.ready = False
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = ""


class LocalSandbox(ProcessSandbox):
    """``warm=True`` forks each run from a server that imported TensorFlow once
    (see :mod:`autograder.sandbox.forkserver`); ``warm=False`` starts a cold
    Python per run (set ``AUTOGRADER_WARM=0``)."""

    name = "local"

    def __init__(self, warm: bool | None = None):
        if warm is None:
            warm = os.environ.get("AUTOGRADER_WARM", "1") != "0"
        self.warm = WarmServer(self._base_env()) if warm else None

    def prepare(self) -> None:
        if self.warm is not None:
            self.warm.spawn()

    @staticmethod
    def _base_env() -> dict:
        return {
            "PATH": os.path.dirname(sys.executable) + ":/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "PYTHONPATH": PACKAGE_PARENT,
            "PYTHONHASHSEED": "0",
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "MPLBACKEND": "Agg",
        }

    @staticmethod
    def _limits(job: Job) -> dict:
        return {"memory_mb": job.limits.memory_mb, "cpu_s": int(job.limits.total_timeout_s) + 30}

    def _env(self, scratch: str, token: str, fd: int, job: Job) -> dict:
        return {
            **self._base_env(),
            "HOME": scratch,
            "TMPDIR": scratch,
            "AUTOGRADER_SANDBOX_TOKEN": token,
            "AUTOGRADER_PASS_FDS": str(fd),
            "AUTOGRADER_PARENT_PID": str(os.getpid()),
            "AUTOGRADER_LIMITS": json.dumps(self._limits(job)),
        }

    def _start(self, job: Job, workdir: str, scratch: str, job_data: dict, token: str) -> Started:
        job_path = os.path.join(workdir, "job.json")
        with open(job_path, "w") as fh:
            json.dump(job_data, fh)
        if self.warm is not None:
            return self._start_warm(job, job_path, scratch, token)
        read_fd, write_fd = os.pipe()
        cmd = [sys.executable, "-m", "autograder.sandbox.supervisor",
               sys.executable, "-m", "autograder.sandbox.worker", job_path, str(write_fd)]
        proc = subprocess.Popen(
            cmd, cwd=scratch, env=self._env(scratch, token, write_fd, job),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=(write_fd,), start_new_session=True)
        os.close(write_fd)
        return Started(proc, read_fd, proc.stdout, token)

    def _start_warm(self, job: Job, job_path: str, scratch: str, token: str) -> Started:
        events_r, events_w = os.pipe()
        output_r, output_w = os.pipe()
        request = {"job": job_path, "scratch": scratch, "limits": self._limits(job),
                   "env": {"HOME": scratch, "TMPDIR": scratch, "AUTOGRADER_SANDBOX_TOKEN": token}}
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(self.warm.socket_path())
            socket.send_fds(conn, [json.dumps(request).encode()], [events_w, output_w])
            conn.settimeout(60)
            line = b""
            while not line.endswith(b"\n"):
                chunk = conn.recv(4096)
                if not chunk:
                    raise OSError("the warm worker closed the connection")
                line += chunk
            pid = int(json.loads(line)["pid"])
        except (OSError, ValueError, KeyError) as exc:
            conn.close()
            for fd in (events_r, output_r):
                os.close(fd)
            raise SandboxError(f"the warm worker did not start the run: {exc}") from None
        finally:
            os.close(events_w)
            os.close(output_w)
        return Started(ForkedRun(conn, pid), events_r, os.fdopen(output_r, "rb", buffering=0), token)

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
