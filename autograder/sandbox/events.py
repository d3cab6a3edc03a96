"""The event channel between a run's worker and the grader: its format and both ends.

The worker writes JSON objects, one per line (:class:`Channel`); the grader reads them
(:class:`LineReader`, :func:`parse`), accepts them in one order only (:class:`Schedule`)
and keeps only the fields the judge reads (:func:`observation`, :func:`cell_record`).

Events, in the only order the grader accepts::

    {"ev": "ready", "tensorflow": "2.21.0", "device": "cpu", "setup_s": 1.2}
    {"ev": "cell_start", "i": 3}      {"ev": "cell_end", "i": 3, "status": "ok"|"error", ...}
                                      ... for every cell to run, in the job's order
    {"ev": "check_start", "id": "evaluate.public"}
    {"ev": "check_end", "id": "evaluate.public", "status": "ok", "values": {...}}
                                      ... for every check to probe, in the job's order
    {"ev": "done"}

Backends that report a run's end themselves add one ``{"ev": "end", "nonce": ...}``
after the worker is gone; the nonce never enters the worker's process.

The channel is written by an adversary: the student's code runs in the worker's
process and can write anything to it, at any time. So, on the grader's side:

* lines are split in linear time, each at most ``MAX_LINE`` bytes and ``MAX_ITEMS`` JSON
  values (counted before parsing); blank lines (the worker starts every event on a line
  of its own) are skipped without parsing; at most ``MAX_KEPT`` bytes of observations
  are kept per run, beyond which they count as malformed;
* an event that is not the next one expected (a second ``ready``, a ``check_start``
  sent again to reset a deadline, a ``check_end`` for a check already ended, events
  of a check that is not in progress) is a :class:`Violation`, charged to the step in
  progress or, between steps, to the step that just ended: that step fails and its
  recorded answer, if any, is dropped; so is the answer of an ended step the event
  names again (the real end of a check whose end was forged earlier);
* a process that dies between two steps is charged to the step that just ended (an
  answer that forged its own end and then ended the process gains nothing);
* a line that is not a JSON object (garbage, a half line, nesting deep enough to
  exhaust the parser) *taints* the step in progress: the step's answer is dropped
  when it ends, unless the process dies first (then it is a crash, as on any backend);
* every deadline is the grader's own: set when a step starts, never moved by an event.
"""

from __future__ import annotations

import json
import os

from autograder.errors import Malformed  # noqa: F401 - raised here, caught by callers

MAX_LINE = 64 * 2**20            # one event (an observation holds at most a few arrays)
MAX_ITEMS = 1_000_000            # JSON values in one event (arrays travel as one string each)
MAX_KEPT = 256 * 2**20           # bytes of observations one run may leave in the grader's memory
OVERSIZED = b"<oversized line>"
OBSERVATION_STATUSES = ("ok", "error")
ERROR_KINDS = ("student", "missing", "answer_type", "probe")


# ---------------------------------------------------------------- worker side


class Channel:
    def __init__(self, fd: int):
        self.fd = fd

    def send(self, event: dict) -> None:
        # Each event starts a line of its own: a half line the student's code wrote here is
        # left as garbage the grader skips, and cannot swallow this event.
        data = ("\n" + json.dumps(event, allow_nan=True) + "\n").encode()
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]


# ---------------------------------------------------------------- grader side


class LineReader:
    """Splits a byte stream into lines; linear in what it is fed, whatever the line lengths."""

    def __init__(self, max_line: int = MAX_LINE):
        self.max_line = max_line
        self.partial = bytearray()
        self.overflow = False    # an unterminated line grew past max_line

    def feed(self, chunk: bytes) -> list[bytes]:
        if b"\n" not in chunk:
            self.partial += chunk
            self.overflow = self.overflow or len(self.partial) > self.max_line
            return []
        parts = chunk.split(b"\n")
        first = bytes(self.partial) + parts[0]
        self.partial = bytearray(parts[-1])
        self.overflow = len(self.partial) > self.max_line
        # An oversized line becomes one that parse() rejects, in its place in the stream.
        return [line if len(line) <= self.max_line else OVERSIZED
                for line in [first, *parts[1:-1]] if line and not line.isspace()]




def parse(line: bytes) -> dict:
    # Every JSON value but the outermost follows one of these bytes: a cheap bound of what
    # json.loads would build (a line of "[],[],..." grows twenty-fold when parsed).
    if len(line) > 4096 and sum(line.count(b) for b in (b",", b":", b"[", b"{")) > MAX_ITEMS:
        raise Malformed("too many items")
    try:
        event = json.loads(line)
    except (ValueError, RecursionError) as exc:  # deep nesting exhausts the parser's stack
        raise Malformed(type(exc).__name__) from None
    if not isinstance(event, dict):
        raise Malformed("not an object")
    return event


class Violation(Exception):
    """An event out of the expected order; ``blame`` is the step it is charged to (or None), and
    ``also`` a step that had already ended which the event names again (its end was forged)."""

    def __init__(self, blame: tuple | None, reason: str, also: tuple | None = None):
        super().__init__(reason)
        self.blame, self.reason, self.also = blame, reason, also


class Schedule:
    """The one order of events a run may send: ready, then each step's start and end, then done.

    ``steps`` are ("cell", index) and ("check", id) in the order the worker runs them.
    :meth:`take` returns what an accepted event means, or raises :class:`Violation`.
    """

    def __init__(self, steps: list[tuple]):
        self.steps = steps
        self.next = 0                       # index of the next step to start
        self.current: tuple | None = None   # the step in progress
        self.last: tuple | None = None      # the step that ended last
        self.ready = False
        self.done = False
        self.tainted = False                # garbage arrived during the step in progress

    def blame(self) -> tuple | None:
        return self.current or self.last

    def taint(self) -> None:
        self.tainted = True

    def _named(self, event: dict) -> tuple | None:
        """The step an event names, if that step has already ended in this run."""
        ev = event.get("ev")
        kind = ev.split("_", 1)[0] if isinstance(ev, str) else None
        key = event.get(_KEY.get(kind, ""))
        for step in self.steps[:self.next]:
            if step != self.current and step == (kind, key) and type(key) is type(step[1]):
                return step
        return None

    def take(self, event: dict) -> tuple:
        try:
            return self._take(event)
        except Violation as exc:
            exc.also = self._named(event)
            raise

    def _take(self, event: dict) -> tuple:
        ev = event.get("ev")
        if self.done:
            raise Violation(self.last, f"event {str(ev)[:20]!r} after done")
        if not self.ready:
            if ev != "ready":
                raise Violation(None, f"event {str(ev)[:20]!r} before ready")
            self.ready = True
            return ("ready",)
        if self.current is None:
            if self.next == len(self.steps):
                if ev != "done":
                    raise Violation(self.last, f"event {str(ev)[:20]!r} where done was expected")
                self.done = True
                return ("done",)
            kind, key = self.steps[self.next]
            if ev != f"{kind}_start" or event.get(_KEY[kind]) != key or type(event.get(_KEY[kind])) is not type(key):
                raise Violation(self.last, f"event {str(ev)[:20]!r} where {kind}_start was expected")
            self.current, self.next, self.tainted = self.steps[self.next], self.next + 1, False
            return ("start", self.current)
        kind, key = self.current
        if ev != f"{kind}_end" or event.get(_KEY[kind]) != key or type(event.get(_KEY[kind])) is not type(key):
            raise Violation(self.current, f"event {str(ev)[:20]!r} where {kind}_end was expected")
        step, tainted = self.current, self.tainted
        self.current, self.last, self.tainted = None, step, False
        return ("end", step, tainted)


_KEY = {"cell": "i", "check": "id"}


def _text(value: object, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _where(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return [item[:200] for item in value[-3:] if isinstance(item, str)]


MALFORMED = {"status": "error", "kind": "malformed"}
PROTOCOL = {"status": "error", "kind": "protocol"}


def observation(event: dict) -> dict:
    """The fields of a check_end the judge reads, each of its expected type (else MALFORMED)."""
    status = event.get("status")
    if status == "ok":
        values = event.get("values")
        if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
            return dict(MALFORMED)
        return {"status": "ok", "values": values}
    if status != "error" or event.get("kind") not in ERROR_KINDS:
        return dict(MALFORMED)
    return {"status": "error", "kind": event["kind"], "exc_type": _text(event.get("exc_type"), 80),
            "message": _text(event.get("message"), 500), "where": _where(event.get("where")),
            "function": _text(event.get("function"), 100), "origin": _text(event.get("origin"), 20)}


def cell_record(event: dict) -> dict:
    """What the instructor's log shows of a cell_end."""
    status = event.get("status")
    return {"status": status if status in OBSERVATION_STATUSES else "malformed",
            "exc_type": _text(event.get("exc_type"), 80), "message": _text(event.get("message"), 500),
            "where": _where(event.get("where"))}


def seconds(value: object) -> float:
    """A duration the worker reported: statistics only, never trusted for grading."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        and 0 <= value < 86400 else 0.0
