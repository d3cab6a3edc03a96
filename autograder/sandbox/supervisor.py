"""A cold run's supervisor (local backend, ``AUTOGRADER_WARM=0``).

``python -P -m autograder.sandbox.supervisor`` reads one line from stdin, the run's
plan (JSON: confinement, limits), and leaves the rest of stdin, the job, to the worker
it starts: ``python -P -m autograder.sandbox.worker - 3``, executed in a process that is
isolated and confined first (:func:`autograder.sandbox.linux.supervise`), with the event
pipe as its fd 3. When the worker exits, or the grader sends SIGTERM, every process of
the run is killed before this one exits with the worker's status. It runs no student
code and imports nothing heavy; ``-P`` keeps its scratch working folder off
``sys.path``, so nothing a run leaves there can stand in for a module.
"""

from __future__ import annotations

import os
import sys

EVENTS_FD = 3


def main() -> int:
    from autograder.sandbox import linux
    from autograder.sandbox.control import read_control

    parent = linux.expected_parent()
    linux.die_with_parent(parent)
    plan = read_control(0)  # byte by byte: the job that follows is the worker's to read
    events = int(os.environ.pop("AUTOGRADER_EVENTS_FD"))
    os.dup2(events, EVENTS_FD)
    if events != EVENTS_FD:
        os.close(events)
    env = {**os.environ, "AUTOGRADER_PARENT_PID": str(parent)}  # tells whose run this is (tests)

    def start_worker() -> None:
        os.execve(sys.executable, [sys.executable, "-P", "-m", "autograder.sandbox.worker", "-", str(EVENTS_FD)], env)

    return linux.supervise(plan["confinement"], plan["limits"], start_worker)


if __name__ == "__main__":
    sys.exit(main())
