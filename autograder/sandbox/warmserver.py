"""The loop both warm servers run (:mod:`.forkserver`, :mod:`.containerserver`), written once.

A warm server imports what its runs need, forks a process per run and serves requests
until its grader is gone. :func:`serve` says ``ready`` on stdout (the grader waits for
that line), then waits on the server's request sources and on a wake-up pipe that
SIGCHLD writes to (:func:`wakeup_pipe`): each readable source's handler serves what came
and says whether to go on, in the order the sources were given; ``on_child`` runs after
every wake-up, so exited runs are reaped at once. The loop returns when a handler says
stop, and the server cleans up after itself. Standard library only: the container
server imports it inside the sandbox image.
"""

from __future__ import annotations

import os
import selectors
import signal
from typing import Callable

READY = b"ready"   # a warm server's first line on its stdout


def wakeup_pipe() -> int:
    """The read end of a pipe that becomes readable when a child exits (SIGCHLD gets a handler)."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    return wake_r


def serve(handlers: dict, on_child: Callable[[], None], *, wake: int | None = None,
          timeout: float | None = None) -> None:
    """Say ready, then call the handler of each readable source (a descriptor or a socket)
    until one returns False; ``on_child`` after every wake-up (a signal, a request, or
    ``timeout`` seconds)."""
    wake = wakeup_pipe() if wake is None else wake
    with selectors.DefaultSelector() as selector:
        for source in (wake, *handlers):
            selector.register(source, selectors.EVENT_READ)
        print(READY.decode(), flush=True)
        while True:
            ready = {key.fileobj for key, _ in selector.select(timeout)}
            if wake in ready:
                os.read(wake, 4096)
            for source, handler in handlers.items():
                if source in ready and not handler():
                    return
            on_child()
