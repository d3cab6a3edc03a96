"""A warm worker for the local backend: import TensorFlow once, fork per run.

``python -m autograder.sandbox.forkserver SOCKET`` imports TensorFlow, Keras,
NumPy and the in-sandbox harness (running no TensorFlow op), then serves
requests on a Unix socket. Each request carries a job and two file
descriptors (events, output); the server forks a *run supervisor*, which

* starts a new session, points stdout/stderr at the output pipe, moves to the
  run's scratch directory, sets the run's environment and rlimits,
* makes itself a child subreaper and forks the worker that runs the student's
  cells and probes,
* when the worker exits (or on SIGTERM) kills every process left below it,
  and exits with the worker's status.

So each run still gets a fresh process, its own scratch space, its limits,
and no survivor: only the seconds of ``import tensorflow`` are shared. The
server is itself a subreaper: a process orphaned because a student killed its
run supervisor lands here and is killed at once.
"""

from __future__ import annotations

import ctypes
import json
import os
import selectors
import signal
import socket
import sys

PR_SET_CHILD_SUBREAPER = 36
EVENTS_FD = 3


def _subreaper() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _run_supervisor(request: dict, events_fd: int, output_fd: int) -> None:
    """In the forked child: become the run's supervisor, start the worker, clean up."""
    from autograder.sandbox import supervisor, worker

    os.setsid()
    supervisor.die_with_parent()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.dup2(events_fd, EVENTS_FD)
    os.closerange(EVENTS_FD + 1, 1 << 16)  # the server's sockets, the other runs' pipes
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)
    os.chdir(request["scratch"])
    os.environ.update(request["env"])
    os.environ["AUTOGRADER_LIMITS"] = json.dumps(request["limits"])
    supervisor.apply_limits()
    _subreaper()
    pid = os.fork()
    if pid == 0:
        supervisor.die_with_parent()
        worker.run_and_exit([request["job"], str(EVENTS_FD)])
    os.close(EVENTS_FD)  # only the worker writes events: EOF once it is gone

    def on_term(signum: int, frame: object) -> None:
        supervisor.kill_all()
        os._exit(137)

    signal.signal(signal.SIGTERM, on_term)
    while True:
        try:
            _, wait_status = os.waitpid(pid, 0)
            break
        except ChildProcessError:
            wait_status = 0
            break
        except InterruptedError:
            continue
    supervisor.kill_all()
    code = os.waitstatus_to_exitcode(wait_status)
    os._exit(128 - code if code < 0 else code)


def warm_up() -> None:
    """Import everything a run imports, but run no TensorFlow op: forking after one is
    unsafe (thread pools, and on a GPU a CUDA context, do not survive a fork)."""
    import numpy  # noqa: F401
    import tensorflow  # noqa: F401

    try:
        import keras  # noqa: F401
        import matplotlib.pyplot  # noqa: F401
    except ImportError:
        pass
    from autograder import artefacts, checkfiles, plaindata, probing, rules  # noqa: F401
    from autograder.sandbox import events, supervisor, worker  # noqa: F401


def serve(path: str) -> None:
    warm_up()
    _subreaper()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "accept")
    sel.register(wake_r, selectors.EVENT_READ, "child")
    runs: dict[int, socket.socket] = {}
    print("ready", flush=True)
    while True:
        for key, _ in sel.select(timeout=1.0):
            if key.data == "accept":
                conn, _ = listener.accept()
                _start_run(conn, runs)
            else:
                os.read(wake_r, 4096)
        _reap(runs)


def _start_run(conn: socket.socket, runs: dict) -> None:
    try:
        msg, fds, _, _ = socket.recv_fds(conn, 1 << 16, 2)
        request = json.loads(msg)
        events_fd, output_fd = fds
    except (OSError, ValueError):
        conn.close()
        return
    pid = os.fork()
    if pid == 0:
        try:
            _run_supervisor(request, events_fd, output_fd)
        finally:
            os._exit(99)
    os.close(events_fd)
    os.close(output_fd)
    runs[pid] = conn
    try:
        conn.sendall((json.dumps({"pid": pid}) + "\n").encode())
    except OSError:
        pass


def _reap(runs: dict) -> None:
    while True:
        try:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            break
        conn = runs.pop(pid, None)
        if conn is not None:
            try:
                conn.sendall((json.dumps({"status": os.waitstatus_to_exitcode(wait_status)}) + "\n").encode())
            except OSError:
                pass
            conn.close()
    # Anything else below us is an orphan of a killed run supervisor: it must not live.
    from autograder.sandbox.supervisor import parents

    me = os.getpid()
    for pid, parent in parents().items():
        if parent == me and pid not in runs:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


if __name__ == "__main__":
    # First of all (before seconds of imports): a grader killed with SIGKILL takes us along.
    from autograder.sandbox.supervisor import die_with_parent, expected_parent

    die_with_parent(expected_parent())
    serve(sys.argv[1])
