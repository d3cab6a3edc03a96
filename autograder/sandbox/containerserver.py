"""A warm Docker container: import TensorFlow once, fork a fresh worker per run.

Two entry points, both inside the sandbox image:

``python -m autograder.sandbox.containerserver serve`` is the container's main
process, its PID 1, under the container's sandbox uid. The kernel delivers no signal from inside the
container to a PID 1 that has no handler for it, so students can neither kill
nor stop the server; it reaps orphans as an init does. It imports what a run needs (no
TensorFlow op), then serves one run at a time on an abstract Unix socket,
which exists only in the container's own network namespace. Its stdin is the
grader's lifeline: when it closes (the grader stopped, or was killed), the
server kills every run and exits, and ``--rm`` removes the container.

``python -m autograder.sandbox.containerserver client`` is started by the
grader for each run with ``docker exec`` under the next uid. It reads the job from
its stdin, hands the server a pipe carrying the job and its own stdout (the
event channel) and stderr (the student's output); the server forks the worker
onto those descriptors. So the job, the events and the output never pass
through the server's memory, which every later run is forked from: one
student's code or answers cannot be read back by the next. The client then
waits; an ``abort`` line (or EOF) on its stdin asks the server to stop the
run. After the run it writes one ``end`` event carrying the grader's nonce.

Between runs the server restores a fresh state, and says whether it could:

* ``kill(-1, SIGKILL)`` ends every process of the sandbox user but itself
  (atomic against fork bombs: the kernel signals them all under one
  lock); the client runs as another user, so it survives and students can
  neither signal it nor impersonate it (the server checks the peer's uid);
* the writable places (``/scratch``, ``/dev/shm``, ``/dev/mqueue``) are
  emptied and System V IPC objects removed;
* the server is not dumpable (no ptrace, no ``/proc/PID/mem`` for students),
  and after each run it compares its nice value, rlimits, CPU affinity,
  scheduling policy and attributes, and I/O priority (which a same-user process
  may change) with the values it started with. If anything differs, or the
  cleanup failed, it reports itself unfit and exits: the grader then discards
  the container.

It ignores every catchable signal but SIGCHLD (whatever an import installed), and
refuses to serve unless it is PID 1; it runs with ``python -P``, so nothing a student
writes to ``/scratch`` can shadow a module it imports later. The client's ``end``
line starts on a line of its own: a student holding the event pipe cannot glue a
half-written line to it (every student process is dead by the time it is written).
"""

from __future__ import annotations

import os
import resource
import select
import signal
import socket
import struct
import sys
import time

from autograder.files import remove_tree
from autograder.sandbox import warmserver
from autograder.sandbox.control import ControlReader, Malformed, read_control, send_control
from autograder.sandbox.events import Channel
from autograder.sandbox.linux import (apply_run_rlimits_from_env, ioprio, reap, remove_sysv_ipc, sched_attr,
                                     set_dumpable, subreaper)

SOCKET_NAME = b"\0autograder-sandbox"
UNRESPONSIVE_S = 5.0   # for the server to stop a run once asked
EVENTS_FD = 3
WRITABLE = ("/scratch", "/dev/shm", "/dev/mqueue")


# ---------------------------------------------------------------- server


def _fingerprint() -> dict:
    """Process attributes a same-user process can change from outside (see module doc)."""
    limits = {name: resource.getrlimit(getattr(resource, name))
              for name in dir(resource) if name.startswith("RLIMIT_")}
    return {"nice": os.getpriority(os.PRIO_PROCESS, 0), "rlimits": limits,
            "affinity": sorted(os.sched_getaffinity(0)), "policy": os.sched_getscheduler(0),
            "sched_attr": sched_attr(), "ioprio": ioprio()}


def _ignore_signals() -> dict:
    """Ignore every catchable signal but SIGCHLD; returns the dispositions it replaced.

    The kernel delivers a signal sent from inside the container to PID 1 only when
    PID 1 catches it, so this pins what students can reach: nothing, whatever handler
    an import installed. Ignored dispositions survive fork, so each worker gets the
    old ones back (see :func:`_start_worker`)."""
    saved = {}
    for sig in signal.valid_signals():
        if sig in (signal.SIGCHLD, signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            saved[sig] = signal.signal(sig, signal.SIG_IGN)
        except (OSError, ValueError):  # glibc's reserved real-time signals
            continue
    return saved


def _others_alive() -> bool:
    """Whether any process of our user other than us and the init is still running."""
    me, uid = os.getpid(), os.getuid()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in (1, me):
            continue
        try:
            with open(f"/proc/{name}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue
        if int(fields["Uid"].split()[1]) == uid and not fields["State"].strip().startswith(("Z", "X")):
            return True
    return False


def _sweep(deadline_s: float = 10.0) -> bool:
    """Kill every sandbox-user process but ours; True once none is left."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        reap()
        if not _others_alive():
            return True
        time.sleep(0.005)
    return False


def _restore(fingerprint: dict) -> str | None:
    """Back to a fresh sandbox after a run; else why this container must not be reused."""
    if not _sweep():
        return "processes of the run survived"
    dirty = [folder for folder in WRITABLE if not remove_tree(folder, keep_root=True)]
    if dirty:
        return f"could not empty {', '.join(dirty)}"
    if not remove_sysv_ipc():
        return "could not remove System V IPC objects"
    now = _fingerprint()
    changed = [key for key in fingerprint if now[key] != fingerprint[key]]
    return f"the server's {', '.join(changed)} changed" if changed else None


def _start_worker(job_fd: int, events_fd: int, output_fd: int, signals: dict) -> int:
    pid = os.fork()
    if pid:
        return pid
    try:  # the child: a fresh run of the worker on the client's descriptors
        os.setsid()
        set_dumpable(True)  # students' own /proc entries work as usual
        try:  # under memory pressure the kernel kills the run, never the server
            with open("/proc/self/oom_score_adj", "w") as fh:
                fh.write("1000")
        except OSError:
            pass
        # The lowest CPU weight, which students cannot raise again: under a fork bomb that
        # fills the container's CPU quota, the server and the client still get enough of it
        # to stop the run and report in time. Alone in its container, the run loses nothing.
        os.nice(19)
        apply_run_rlimits_from_env()
        os.dup2(job_fd, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        os.dup2(events_fd, EVENTS_FD)
        os.closerange(EVENTS_FD + 1, 1 << 16)
        signal.set_wakeup_fd(-1)
        for sig, handler in signals.items():  # what a fresh Python had (None: a C handler)
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        os.chdir("/scratch")
        from autograder.sandbox import worker

        worker.run_and_exit(["-", str(EVENTS_FD)])
    finally:
        os._exit(99)


def _serve_run(conn: socket.socket, lifeline: int, wake: int, fingerprint: dict, signals: dict) -> bool:
    """One run, from the client's request to its end report; False: stop serving."""
    try:
        _, fds, _, _ = socket.recv_fds(conn, 1024, 3)
    except OSError:
        return True
    if len(fds) != 3:
        for fd in fds:
            os.close(fd)
        return True
    pid = _start_worker(*fds, signals)
    for fd in fds:
        os.close(fd)
    status, stop = None, False
    while status is None:
        ready, _, _ = select.select([conn, lifeline, wake], [], [], 1.0)
        if wake in ready:
            os.read(wake, 4096)
        if conn in ready:
            try:
                data = conn.recv(64)
            except OSError:
                data = b""
            if not data or b"abort" in data:
                break
        if lifeline in ready and not os.read(lifeline, 4096):
            stop = True
            break
        try:
            done, wait_status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done, wait_status = pid, 0
        if done:
            status = os.waitstatus_to_exitcode(wait_status)
    unfit = _restore(fingerprint)
    if unfit:
        print(f"containerserver: not reusable: {unfit}", file=sys.stderr, flush=True)
    fit = unfit is None
    send_control(conn, {"status": 137 if status is None else (128 - status if status < 0 else status), "fit": fit})
    return fit and not stop


def serve() -> None:
    if os.getpid() != 1:  # an init in front of us (docker --init, a daemon default) could be signalled
        sys.exit("containerserver: must be the container's PID 1 (run without --init)")
    lifeline = os.dup(0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    from autograder.sandbox.forkserver import warm_up

    warm_up()
    set_dumpable(False)
    subreaper()  # orphans of a run come back to us, also when we are not PID 1
    # Only SIGCHLD has a handler: any other signal a student sends PID 1 is dropped.
    signals = _ignore_signals()
    wake = warmserver.wakeup_pipe()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(SOCKET_NAME)
    listener.listen(8)
    fingerprint = _fingerprint()
    warmserver.serve({lifeline: lambda: bool(os.read(lifeline, 4096)),
                      listener: lambda: _accept(listener, lifeline, wake, fingerprint, signals)},
                     reap, wake=wake)
    _sweep()
    os._exit(0)


def _accept(listener: socket.socket, lifeline: int, wake: int, fingerprint: dict, signals: dict) -> bool:
    """A client's connection: its run, if it is the client's uid; False: stop serving."""
    conn, _ = listener.accept()
    with conn:
        _, uid, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
        if uid != os.getuid() + 1:  # the client's uid: students (ours) cannot become it
            return True
        return _serve_run(conn, lifeline, wake, fingerprint, signals)


# ---------------------------------------------------------------- client


def _read_exactly(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the job was cut short")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def client() -> int:
    set_dumpable(False)
    try:
        head = read_control(0)
    except EOFError:
        return 2
    nonce = str(head["nonce"])
    job = _read_exactly(0, int(head["job_bytes"]))
    end = {"ev": "end", "nonce": nonce, "status": None, "fit": False, "server": "died"}
    job_r, job_w = os.pipe()
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(SOCKET_NAME)
        socket.send_fds(conn, [b"run"], [job_r, 1, 2])
    except OSError:
        end["server"] = "unreachable"
        Channel(1).send(end)
        return 3
    os.close(job_r)
    _send_job(job_w, job)
    del job
    end.update(_await_report(conn))
    # One write of a short line (atomic on a pipe) that starts a new line, whatever half line a student left.
    Channel(1).send(end)
    return 0


def _send_job(job_w: int, job: bytes) -> None:
    try:
        view = memoryview(job)
        while view:
            view = view[os.write(job_w, view):]
    except BrokenPipeError:  # the worker died before reading it all: the report says how
        pass
    os.close(job_w)


def _await_report(conn: socket.socket) -> dict:
    """What the end event says of the run (nothing if the server died), from the server's
    report; an abort from the grader (a line, or EOF, on stdin) is passed on to the server."""
    replies, aborted = ControlReader(), False
    while True:
        ready, _, _ = select.select([conn] + ([] if aborted else [0]), [], [],
                                    UNRESPONSIVE_S if aborted else None)
        if not ready:  # a server stuck in its cleanup: the grader discards the container
            return {"server": "unresponsive"}
        if 0 in ready:
            data = os.read(0, 4096)
            if not data or b"abort" in data:
                aborted = True
                try:
                    conn.sendall(b"abort\n")
                except OSError:
                    pass
        if conn in ready:
            replies.feed(conn.recv(4096))
            try:
                report = replies.take()
            except (EOFError, Malformed):  # the server died (or broke) during the run
                return {}
            if report is not None:
                return {"status": int(report["status"]), "fit": bool(report["fit"]), "server": "ok"}


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        serve()
    elif sys.argv[1:] == ["client"]:
        sys.exit(client())
    else:
        sys.exit("usage: python -m autograder.sandbox.containerserver serve|client")
