"""The sandbox's control channels: JSON objects, one per line, between the grader and its helpers.

Beside the event channel (:mod:`.events`, written by an adversary) the sandbox's own
processes talk over a few short channels: a cold run's plan to its supervisor, a warm
container's job header to its client, a forked run's pid and exit status from the local
warm server, a container server's end-of-run report, the local warm server's requests.
Each message is one JSON object on a line of its own, written by :func:`control_line`
(or :func:`send_control` on a socket) and read by :class:`ControlReader` (fed bytes as
they arrive) or :func:`read_control` (byte by byte from a descriptor, leaving what follows
the line, a job, unread). A line over ``MAX_CONTROL`` bytes, or that is not a JSON object,
is :class:`Malformed`; a channel that ends before a whole line is an ``EOFError``.

Standard library only: the container server and its client import it inside the image.
"""

from __future__ import annotations

import json
import os

from autograder.errors import Malformed

MAX_CONTROL = 2**20   # one control message (a run's plan is the largest: a few KB)


def control_line(message: dict) -> bytes:
    """One message of a control channel: a JSON object on a line of its own."""
    return (json.dumps(message) + "\n").encode()


def send_control(sock, message: dict) -> bool:
    """Send one message on a socket; False when its reader is gone (it learns nothing more)."""
    try:
        sock.sendall(control_line(message))
    except OSError:
        return False
    return True


def parse_control(line: bytes) -> dict:
    try:
        message = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise Malformed(f"a control line that is not JSON ({type(exc).__name__})") from None
    if not isinstance(message, dict):
        raise Malformed("a control line that is not a JSON object")
    return message


class ControlReader:
    """The reading end of a control channel, fed bytes as they arrive; whole messages out."""

    def __init__(self, max_line: int = MAX_CONTROL):
        self.max_line, self.buffer, self.closed = max_line, bytearray(), False

    def feed(self, chunk: bytes) -> None:
        """What the channel gave; b"" is its end."""
        self.closed = self.closed or not chunk
        self.buffer += chunk

    def take(self) -> dict | None:
        """The next whole message, or None until one has arrived."""
        end = self.buffer.find(b"\n", 0, self.max_line + 1)
        if end < 0:
            return self._incomplete()
        line = bytes(self.buffer[:end])
        del self.buffer[:end + 1]
        return parse_control(line)

    def _incomplete(self) -> None:
        if len(self.buffer) > self.max_line:
            raise Malformed(f"a control line over {self.max_line} bytes")
        if self.closed:
            raise EOFError("the control channel ended in the middle of a line" if self.buffer
                           else "the control channel ended")
        return None

    def receive(self, sock) -> dict:
        """The next message from a stream socket (``socket.timeout`` after the socket's timeout)."""
        while (message := self.take()) is None:
            self.feed(sock.recv(4096))
        return message


def read_control(fd: int, max_line: int = MAX_CONTROL) -> dict:
    """One message from ``fd``, read byte by byte: what follows its line stays unread for the
    next reader (the job after a plan or a header)."""
    line = bytearray()
    while not line.endswith(b"\n"):
        if len(line) > max_line:
            raise Malformed(f"a control line over {max_line} bytes")
        byte = os.read(fd, 1)
        if not byte:
            raise EOFError("the control channel ended in the middle of a line" if line
                           else "the control channel ended")
        line += byte
    return parse_control(bytes(line))
