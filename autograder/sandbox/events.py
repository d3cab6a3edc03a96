"""The event channel between a run's worker and the grader: its format and both ends.

The worker writes JSON objects, one per line (:class:`Channel`); the grader reads them
(:class:`LineReader`, :func:`parse`), accepts them in one order only (:class:`Schedule`)
and keeps only the fields the judge reads (:func:`observation`, :func:`cell_record`).
On the wire every value is plain data; past :func:`observation` and :func:`cell_record`
the grader holds typed records (:class:`Observation`, :class:`CellRecord`), whose
statuses are :class:`StepStatus` and :class:`Fault`. A document that stores observations
(the reference cache, a public reference) holds their plain form (:meth:`Observation.plain`,
read back with :meth:`Observation.of`).

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
from dataclasses import dataclass, field, fields
from enum import StrEnum

from autograder.errors import Malformed  # noqa: F401 - raised here, caught by callers

MAX_LINE = 64 * 2**20            # one event (an observation holds at most a few arrays)
MAX_ITEMS = 1_000_000            # JSON values in one event (arrays travel as one string each)
MAX_KEPT = 256 * 2**20           # bytes of observations one run may leave in the grader's memory
OVERSIZED = b"<oversized line>"


class StepStatus(StrEnum):
    """How a step of a run (a cell, a check) ended: an observation's or a cell's ``status``.

    The worker sends OK or ERROR; the others are the grader's own (the step ran out of time,
    the process died, the step was not run, the step broke the event channel's rules)."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"               # the step's own time limit
    TOTAL_TIMEOUT = "total_timeout"   # the run's total limit, reached during this step
    CRASHED = "crashed"
    SKIPPED = "skipped"               # not run: an earlier check of its exercise hung or crashed
    PROTOCOL = "protocol"             # a cell that broke the event channel's rules
    MALFORMED = "malformed"           # a cell whose end event could not be read


class Fault(StrEnum):
    """Whose error an ERROR observation records (its ``kind``)."""

    STUDENT = "student"           # the student's function raised
    MISSING = "missing"           # the function is not defined
    ANSWER_TYPE = "answer_type"   # the function returned something the probe cannot record
    PROBE = "probe"               # the probe itself raised on what the function returned
    PROTOCOL = "protocol"         # the check broke the event channel's rules: nothing it sent counts
    MALFORMED = "malformed"       # what the check recorded could not be read


OBSERVATION_STATUSES = (StepStatus.OK, StepStatus.ERROR)
ERROR_KINDS = (Fault.STUDENT, Fault.MISSING, Fault.ANSWER_TYPE, Fault.PROBE)


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


@dataclass
class Observation:
    """What the grader keeps of one check's run; everything in it is student-controlled."""

    status: StepStatus
    values: dict | None = None        # OK: the probe's values, encoded (see autograder.checks.plaindata)
    kind: Fault | None = None         # ERROR: whose error
    exc_type: str = ""                # ERROR: the exception's class name, message and last frames
    message: str = ""
    where: list[str] = field(default_factory=list)
    function: str = ""
    origin: str = ""
    detail: str = ""                  # TIMEOUT, CRASHED, PROTOCOL...: what the grader saw
    limit_s: float | None = None      # TIMEOUT: the limit it ran under
    whole_submission: bool = False    # TIMEOUT: the submission's budget ran out, not the check's own
    reference_s: float | None = None  # TIMEOUT: what the solution took
    after: str = ""                   # SKIPPED: the check that hung or crashed before it
    reason: StepStatus | None = None  # SKIPPED: how that check ended
    derived: bool = False             # a public reference's values, derived already

    def plain(self) -> dict:
        """The plain form documents store: the fields that differ from their defaults."""
        out: dict = {"status": str(self.status)}
        for f in fields(self)[1:]:
            value = getattr(self, f.name)
            if f.name == "whole_submission":
                out.update({"scope": "submission"} if value else {})
            elif value != (f.default_factory() if callable(f.default_factory) else f.default):
                out[f.name] = str(value) if isinstance(value, StrEnum) else value
        return out

    @classmethod
    def of(cls, plain: "Observation | dict | None") -> "Observation | None":
        """An observation from its plain form (a document's); fields of the wrong type are dropped."""
        if plain is None or isinstance(plain, Observation):
            return plain
        if not isinstance(plain, dict):
            return cls(StepStatus.MALFORMED)
        values = plain.get("values")
        return cls(_member(StepStatus, plain.get("status")) or StepStatus.MALFORMED,
                   values if isinstance(values, dict) else None, _member(Fault, plain.get("kind")),
                   _text(plain.get("exc_type"), 80), _text(plain.get("message"), 500), _where(plain.get("where")),
                   _text(plain.get("function"), 100), _text(plain.get("origin"), 20), _text(plain.get("detail"), 500),
                   _number(plain.get("limit_s")), plain.get("scope") == "submission",
                   _number(plain.get("reference_s")), _text(plain.get("after"), 200),
                   _member(StepStatus, plain.get("reason")), plain.get("derived") is True)


@dataclass
class CellRecord:
    """What the instructor's log shows of a cell's run."""

    status: StepStatus
    exc_type: str = ""
    message: str = ""
    where: list[str] = field(default_factory=list)
    detail: str = ""                  # TIMEOUT, CRASHED, PROTOCOL: what the grader saw
    limit_s: float | None = None      # TIMEOUT: the limit it ran under

    @classmethod
    def of(cls, plain: "CellRecord | dict") -> "CellRecord":
        if isinstance(plain, CellRecord):
            return plain
        return cls(_member(StepStatus, plain.get("status")) or StepStatus.MALFORMED, _text(plain.get("exc_type"), 80),
                   _text(plain.get("message"), 500), _where(plain.get("where")), _text(plain.get("detail"), 500),
                   _number(plain.get("limit_s")))


def _member(enum: type[StrEnum], value: object) -> StrEnum | None:
    return enum(value) if isinstance(value, str) and value in enum._value2member_map_ else None


def _number(value: object) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def malformed() -> Observation:
    return Observation(StepStatus.ERROR, kind=Fault.MALFORMED)


def protocol(detail: str) -> Observation:
    """A check that broke the event channel's rules: nothing it sent counts."""
    return Observation(StepStatus.ERROR, kind=Fault.PROTOCOL, detail=detail)


def observation(event: dict) -> Observation:
    """The fields of a check_end the judge reads, each of its expected type (else malformed)."""
    status = event.get("status")
    if status == StepStatus.OK:
        values = event.get("values")
        if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
            return malformed()
        return Observation(StepStatus.OK, values)
    if status != StepStatus.ERROR or event.get("kind") not in ERROR_KINDS:
        return malformed()
    return Observation(StepStatus.ERROR, kind=Fault(event["kind"]), exc_type=_text(event.get("exc_type"), 80),
                       message=_text(event.get("message"), 500), where=_where(event.get("where")),
                       function=_text(event.get("function"), 100), origin=_text(event.get("origin"), 20))


def cell_record(event: dict) -> CellRecord:
    """What the instructor's log shows of a cell_end."""
    status = event.get("status")
    return CellRecord(StepStatus(status) if status in OBSERVATION_STATUSES else StepStatus.MALFORMED,
                      _text(event.get("exc_type"), 80), _text(event.get("message"), 500), _where(event.get("where")))


def seconds(value: object) -> float:
    """A duration the worker reported: statistics only, never trusted for grading."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        and 0 <= value < 86400 else 0.0
