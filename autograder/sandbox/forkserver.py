"""A warm worker for the local backend: import TensorFlow once, fork per run.

``python -P -m autograder.sandbox.forkserver FD`` imports TensorFlow, Keras, NumPy and
the in-sandbox harness (running no TensorFlow op), then serves the grader on FD: one
end of a socket pair the grader made, the only way in (runs never hold it, so no run
can ask for a run of its own). Each request carries a run's plan and four descriptors:
a socket for that run's replies, its event pipe, its output pipe and the pipe its job
arrives on. The server forks a *run supervisor*, which

* starts a new session, points stdin at the job pipe, stdout/stderr at the output pipe
  and fd 3 at the event pipe, moves to the run's scratch directory, sets its environment,
* isolates and confines the run (:func:`autograder.sandbox.linux.supervise`: its own
  namespaces, uid, rlimits, Landlock and seccomp, as the plan says) and forks the worker
  that runs the student's cells and probes,
* when the worker exits (or on SIGTERM) kills every process left of the run, and exits
  with the worker's status, which the server sends back on the run's socket.

So each run still gets a fresh process, its own scratch space, its limits and its
confinement, and no survivor: only the seconds of ``import tensorflow`` are shared. The
server runs with ``python -P`` from a folder runs cannot write, so nothing a run leaves
can stand in for a module it imports later. It is itself a subreaper: a process
orphaned because its run supervisor died lands here and is killed at once.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import sys

from autograder.sandbox.control import parse_control, send_control

EVENTS_FD = 3


def _run_supervisor(request: dict, job_fd: int, events_fd: int, output_fd: int) -> None:
    """In the forked child: become the run's supervisor, start the worker, clean up."""
    from autograder.sandbox import linux, worker

    os.setsid()
    linux.die_with_parent()
    os.dup2(job_fd, 0)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.dup2(events_fd, EVENTS_FD)
    os.closerange(EVENTS_FD + 1, 1 << 16)  # the server's sockets, the other runs' pipes
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)
    os.chdir(request["scratch"])
    os.environ.update(request["env"])
    code = linux.supervise(request["confinement"], request["limits"],
                           lambda: worker.run_and_exit(["-", str(EVENTS_FD)]))
    os._exit(code)


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
    from IPython.core import inputtransformer2  # noqa: F401 - every cell goes through it
    from autograder.checks import artefacts, loading, observe, plaindata, probe_tools, rules  # noqa: F401
    from autograder.sandbox import events, linux, worker  # noqa: F401


def serve(control_fd: int) -> None:
    from autograder.sandbox import linux, warmserver

    warm_up()
    # Every run is a fork of this process: frozen, the imported objects stay out of the runs'
    # garbage collections, which would otherwise touch (and so copy) their pages in each run.
    gc.collect()
    gc.freeze()
    linux.subreaper()
    control = socket.socket(fileno=control_fd)
    runs: dict[int, socket.socket] = {}
    # Reaped each second too: an orphan of a killed run supervisor sends us no SIGCHLD until it exits.
    warmserver.serve({control: lambda: _start_run(control, runs)}, lambda: _reap(runs), timeout=1.0)
    for run in runs:  # the grader is gone: so are its runs
        os.kill(run, signal.SIGKILL)
    os._exit(0)


def _start_run(control: socket.socket, runs: dict) -> bool:
    """One request from the grader; False when the grader closed its end."""
    try:
        msg, fds, _, _ = socket.recv_fds(control, 1 << 20, 4)
    except OSError:
        return False
    if not msg:
        return False
    try:
        request = parse_control(msg)
        reply_fd, job_fd, events_fd, output_fd = fds
    except ValueError:  # Malformed included
        for fd in fds:
            os.close(fd)
        return True
    reply = socket.socket(fileno=reply_fd)
    pid = os.fork()
    if pid == 0:
        try:
            _run_supervisor(request, job_fd, events_fd, output_fd)
        finally:
            os._exit(99)
    for fd in (job_fd, events_fd, output_fd):
        os.close(fd)
    runs[pid] = reply
    send_control(reply, {"pid": pid})
    return True


def _reap(runs: dict) -> None:
    from autograder.sandbox import linux

    while True:
        try:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            break
        reply = runs.pop(pid, None)
        if reply is not None:
            send_control(reply, {"status": linux.exit_code(wait_status)})
            reply.close()
    # Anything else below us is an orphan of a killed run supervisor: it must not live.
    me = os.getpid()
    for pid, parent in linux.parents().items():
        if parent == me and pid not in runs:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


if __name__ == "__main__":
    # First of all (before seconds of imports): a grader killed with SIGKILL takes us along.
    from autograder.sandbox.linux import die_with_parent, expected_parent

    die_with_parent(expected_parent())
    serve(int(sys.argv[1]))
