"""The ``local`` backend: a fresh, confined process per submission, without Docker.

For TAs on laptops and lab machines. Each run gets its own supervisor and worker
processes, its own scratch folder as HOME, TMPDIR and working directory, a scrubbed
environment and rlimits; time limits and restarts come from
:mod:`autograder.sandbox.process`. Confinement is the kernel's, applied by the worker to
itself before the first student cell (:mod:`autograder.sandbox.linux`): new network,
IPC and PID namespaces (a user namespace too when the grader is not root, where the
kernel allows it), its own uid when the grader is root, Landlock (read only what a run
needs, write only its scratch folder, no TCP, signals scoped), seccomp (no sockets) and
no_new_privs. Without Landlock, :class:`LocalSandbox` refuses to start unless asked for
an unconfined sandbox (``--unconfined``, for trusted notebooks).

The job reaches the worker through a pipe, never a file; the warm server is reached
through a socket pair only the grader holds.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import site
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from autograder.sandbox import datafiles, linux
from autograder.sandbox.base import Job, SandboxError, SandboxUnavailable
from autograder.sandbox.control import ControlReader, control_line
from autograder.sandbox.process import ProcessSandbox, Started
from autograder.sandbox.warmserver import READY

PACKAGE_DIR = str(Path(__file__).resolve().parents[1])


def kill_tagged(token: str) -> int:
    """SIGKILL any process whose environment carries this run's token (unconfined runs only:
    a confined run is killed with its PID namespace, or its subreaper and uid)."""
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


def _feed(fd: int, data: bytes) -> None:
    """Write ``data`` to a pipe in the background, then close it (a worker that dies first
    leaves the rest unread)."""
    def run() -> None:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        except OSError:
            pass
        finally:
            os.close(fd)

    threading.Thread(target=run, daemon=True).start()


class ForkedRun:
    """A run forked by the warm server, with the slice of the Popen API the sandbox uses;
    the server's replies (its pid, then its exit status) come on ``conn``."""

    def __init__(self, conn: socket.socket, pid: int, replies: ControlReader):
        self.conn, self.pid, self.replies = conn, pid, replies
        self.returncode: int | None = None

    def _read_status(self, timeout: float | None) -> None:
        self.conn.settimeout(timeout)
        try:
            self.returncode = int(self.replies.receive(self.conn)["status"])
        except (socket.timeout, BlockingIOError):
            return
        except EOFError:  # the server is gone
            self.returncode = 137

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
    if it dies. The grader holds one end of a socket pair; the server the other."""

    def __init__(self, env: dict):
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.control: socket.socket | None = None
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

    def request(self, message: dict, fds: list[int]) -> None:
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                self._spawn()
            if not self.ready:
                self._await_ready()
            socket.send_fds(self.control, [control_line(message)], fds)

    def _spawn(self) -> None:
        self.close()
        self.dir = tempfile.mkdtemp(prefix="autograder-warm-")
        home = os.path.join(self.dir, "home")
        os.mkdir(home)
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {**self.env, "HOME": home, "TMPDIR": home, "AUTOGRADER_PARENT_PID": str(os.getpid())}
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "autograder.sandbox.forkserver", str(theirs.fileno())],
            cwd="/", env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),), start_new_session=True)
        theirs.close()

    def _await_ready(self) -> None:
        line = self.proc.stdout.readline()
        if line.strip() != READY:
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
        if self.control is not None:
            self.control.close()
            self.control = None
        self.ready = False
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = ""


def read_paths() -> list[str]:
    """What a run reads and executes: the Python installation, its packages, the grader's package."""
    paths = {sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable)), PACKAGE_DIR}
    paths.update(os.path.realpath(p) for p in site.getsitepackages() + [site.getusersitepackages()]
                 if os.path.isdir(p))
    paths = {os.path.realpath(p) for p in paths}
    return sorted(p for p in paths if not any(p != q and p.startswith(q + "/") for q in paths))


class LocalSandbox(ProcessSandbox):
    """``warm=True`` forks each run from a server that imported TensorFlow once
    (see :mod:`autograder.sandbox.forkserver`); ``warm=False`` starts a cold Python per run
    (set ``AUTOGRADER_WARM=0``). ``confined=False`` runs without the kernel's confinement."""

    name = "local"

    def __init__(self, warm: bool | None = None, confined: bool = True):
        if warm is None:
            warm = os.environ.get("AUTOGRADER_WARM", "1") != "0"
        self.confined = confined
        self.kernel = linux.probe()
        lacking = linux.missing(self.kernel) if confined else None
        if lacking:
            raise SandboxUnavailable(
                f"the local sandbox needs {lacking}, which this machine does not offer: grade with "
                "--backend docker, or with --unconfined for trusted notebooks only")
        if confined and self.kernel["root"]:
            linux.uid_range()  # a misconfigured range fails the command, not every run
        self.read = read_paths()
        self.warm = WarmServer(self._base_env()) if warm else None

    def prepare(self) -> None:
        if self.warm is not None:
            self.warm.spawn()

    def close(self) -> None:
        if self.warm is not None:
            self.warm.close()

    def describe(self) -> dict:
        kernel = self.kernel
        if not self.confined:
            return {"backend": "local", "confined": False,
                    "note": "unconfined: the notebook ran with the grader's own rights (--unconfined)"}
        return {"backend": "local", "confined": True, "landlock_abi": kernel["landlock"],
                "namespaces": list(kernel["namespaces"]), "own_uid": kernel["root"], "seccomp": kernel["seccomp"],
                "no_new_privs": True}

    @staticmethod
    def _base_env() -> dict:
        return {
            "PATH": os.path.dirname(sys.executable) + ":/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(Path(PACKAGE_DIR).parent),
            "PYTHONHASHSEED": "0",
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "MPLBACKEND": "Agg",
        }

    def _plan(self, job: Job, scratch: str) -> dict:
        """The run's limits and confinement (see :func:`autograder.sandbox.linux.confine`)."""
        limits = {"address_space_mb": job.limits.memory_mb, "cpu_s": int(job.limits.total_timeout_s) + 30,
                  "file_mb": 256, "nofile": 4096}
        conf = None
        if self.confined:
            uid = linux.sandbox_uid() if self.kernel["root"] else None
            conf = linux.plan(scratch, self.read + ([os.path.join(os.path.dirname(scratch), "data")]
                                                    if job.data else []), uid)
            # Processes: a uid of its own gets TensorFlow's budget; the grader's uid that budget
            # above what the grader's user already runs (confine counts them).
            limits["nproc"] = job.limits.pids - 16
        return {"confinement": conf, "limits": limits}

    def _start(self, job: Job, workdir: str, scratch: str, job_data: dict, token: str) -> Started:
        os.chmod(workdir, 0o711)  # a run of its own uid must reach its scratch folder
        if job.data:
            folder = datafiles.stage(job.data, os.path.join(workdir, "data"))
            job_data = {**job_data, "data": [[name, os.path.join(folder, name)] for name, _ in job.data]}
        plan = self._plan(job, scratch)
        env = {"HOME": scratch, "TMPDIR": scratch, "AUTOGRADER_SANDBOX_TOKEN": token}
        job_bytes = json.dumps(job_data).encode()
        if self.warm is not None:
            return self._start_warm(plan, env, job_bytes, token)
        job_r, job_w = os.pipe()
        events_r, events_w = os.pipe()
        proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "autograder.sandbox.supervisor"], cwd=scratch,
            env={**self._base_env(), **env, "AUTOGRADER_EVENTS_FD": str(events_w),
                 "AUTOGRADER_PARENT_PID": str(os.getpid())},
            stdin=job_r, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(events_w,),
            start_new_session=True)
        os.close(job_r)
        os.close(events_w)
        _feed(job_w, control_line(plan) + job_bytes)
        return Started(proc, events_r, proc.stdout, token)

    def _start_warm(self, plan: dict, env: dict, job_bytes: bytes, token: str) -> Started:
        ours, theirs = socket.socketpair()
        job_r, job_w = os.pipe()
        events_r, events_w = os.pipe()
        output_r, output_w = os.pipe()
        request = {**plan, "scratch": env["HOME"], "env": env}
        try:
            self.warm.request(request, [theirs.fileno(), job_r, events_w, output_w])
            ours.settimeout(60)
            replies = ControlReader()
            pid = int(replies.receive(ours)["pid"])
        except (OSError, EOFError, ValueError, KeyError) as exc:  # Malformed is a ValueError
            ours.close()
            for fd in (events_r, output_r, job_w):
                os.close(fd)
            raise SandboxError(f"the warm worker did not start the run: {exc}") from None
        finally:
            theirs.close()
            for fd in (job_r, events_w, output_w):
                os.close(fd)
        _feed(job_w, job_bytes)
        return Started(ForkedRun(ours, pid, replies), events_r, os.fdopen(output_r, "rb", buffering=0), token)

    def _stop(self, started: Started) -> None:
        proc = started.proc
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)  # the supervisor kills every process of the run
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
        if not self.confined or "pid" not in self.kernel["namespaces"]:
            kill_tagged(started.token)
