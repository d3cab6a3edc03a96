"""A tiny process reaper between the grader and the worker (local backend).

``python -m autograder.sandbox.supervisor WORKER_ARGV...`` makes itself a
*child subreaper* (Linux ``PR_SET_CHILD_SUBREAPER``), so every process the
student's code starts, even a double-forked daemon in a new session, is
re-parented here rather than to init. When the worker exits, or the grader
sends SIGTERM, every descendant is SIGKILLed and reaped before this process
exits. It runs no student code and imports nothing heavy.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1


def die_with_parent(expected_parent: int | None = None) -> None:
    """SIGKILL this process when its parent dies (a grader killed with SIGKILL included).

    ``expected_parent`` closes the race where the parent died before the call.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getppid() if expected_parent is None else expected_parent
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(137)


def expected_parent() -> int | None:
    value = os.environ.pop("AUTOGRADER_PARENT_PID", "")
    return int(value) if value.isdigit() else None


def parents() -> dict[int, int]:
    """pid -> parent pid of every live process, read from /proc."""
    parent_of: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        parent_of[int(name)] = int(fields[1])
    return parent_of


def descendants(root: int) -> list[int]:
    """All live descendants of ``root``."""
    parent_of = parents()
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in parent_of.items() if pp == parent]
        found.extend(kids)
        frontier.extend(kids)
    return found


def reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_all(deadline_s: float = 10.0) -> int:
    """SIGKILL every descendant until none is left; returns how many were killed."""
    me, killed, end = os.getpid(), 0, time.monotonic() + deadline_s
    while time.monotonic() < end:
        pids = descendants(me)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        time.sleep(0.01)
        reap()
    reap()
    return killed


RUN_RLIMITS_ENV = "AUTOGRADER_RUN_RLIMITS"


def _limit(kind: int, value: int) -> None:
    """Soft and hard limit ``value``, or the hard limit already there if lower."""
    import resource

    hard = resource.getrlimit(kind)[1]
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value))


def apply_run_rlimits_from_env() -> None:
    """In a container: the rlimits of one run, which the grader puts in the environment.

    ``address_space_mb`` (CPU images only): the container's memory limit alone lets a
    memory bomb push the kernel into reclaiming TensorFlow's code pages, a thrash that
    ends as a timeout instead of "out of memory"; with it the run gets a MemoryError
    first, as it does locally.

    ``nproc``: a fork bomb stopped only by the pids cgroup makes every failed fork copy
    TensorFlow's address space first (the cgroup is asked late in fork); starved of CPU,
    its processes then take minutes to die. RLIMIT_NPROC is checked before anything is
    copied. It counts per user, which is why each container has a uid of its own.
    """
    import json
    import resource

    limits = json.loads(os.environ.pop(RUN_RLIMITS_ENV, "{}"))
    if "address_space_mb" in limits:
        _limit(resource.RLIMIT_AS, int(limits["address_space_mb"]) * 2**20)
    if "nproc" in limits:
        _limit(resource.RLIMIT_NPROC, max(int(limits["nproc"]), 1))


def apply_limits() -> None:
    """rlimits for this process and everything it starts."""
    import json
    import resource

    limits = json.loads(os.environ.pop("AUTOGRADER_LIMITS", "{}"))
    _limit(resource.RLIMIT_AS, int(limits.get("memory_mb", 4096)) * 2**20)
    cpu = int(limits.get("cpu_s", 600))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    size = int(limits.get("file_mb", 256)) * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    _limit(resource.RLIMIT_NOFILE, int(limits.get("nofile", 4096)))  # TensorFlow holds a few hundred


def main(argv: list[str]) -> int:
    die_with_parent(expected_parent())
    apply_limits()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    fds = tuple(int(x) for x in os.environ.pop("AUTOGRADER_PASS_FDS", "").split(",") if x)
    worker = subprocess.Popen(argv, pass_fds=fds, stdin=subprocess.DEVNULL,
                              preexec_fn=die_with_parent)

    def on_term(signum: int, frame: object) -> None:
        kill_all()
        os._exit(137)

    signal.signal(signal.SIGTERM, on_term)
    status = worker.wait()
    kill_all()
    # Exit like the worker did, so the grader can tell a crash from a clean end.
    return 128 - status if status < 0 else status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
