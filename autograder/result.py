"""A submission's result: one typed value, and its JSON form (the CLI contract).

Built through these constructors only (:meth:`Result.graded`, :meth:`Result.invalid`,
:meth:`Result.error`, :meth:`Result.not_graded_item`), by :mod:`autograder.runs.grading` and
:mod:`autograder.runs.batch`; everything downstream reads it or its JSON form. The JSON
object is what ``grade --json`` prints (one per line), what ``results/<assignment>/
<student>.json`` holds and what the gradebook stores, keys in this order::

    student assignment submission sha256 status message score max_score checks
    backend device sandbox duration_s assignment_version grader_version graded_at
    [student_code_s: graded only] name lms [reused: true, when an earlier result was kept]

A submission that was never read (no notebook, two claiming one id...) has no sandbox,
versions or time, and says ``"not_graded": true``. Each check (a :class:`CheckOutcome`, made
by :mod:`autograder.checks.judge` and carried as it is to this JSON; its ``outcome`` an
:class:`Outcome`, the one spelling of these words)::

    id exercise name points max_points passed hidden message outcome limit_s

Read back from the gradebook, a result also has ``override`` and ``final_score``.
Why a grading failed (:class:`ErrorKind`) is kept on the value, never in the JSON: an
error is never stored, and the batch retries on the kind, not on a message's words.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum


class Status(StrEnum):
    GRADED = "graded"     # the checks ran: the score stands
    INVALID = "invalid"   # the student's submission cannot be graded (not a notebook, no notebook...)
    ERROR = "error"       # the grader or the instructor's setup failed: never stored as a grade


class Outcome(StrEnum):
    PASSED = "passed"
    WRONG = "wrong"
    ERROR = "error"
    NOT_IMPLEMENTED = "not_implemented"
    MISSING = "missing"
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    SKIPPED = "skipped"
    SYNTAX = "syntax"


class ErrorKind(StrEnum):
    INFRASTRUCTURE = "infrastructure"   # the sandbox itself failed: worth one retry
    GRADER = "grader"                   # a bug in the grader (or the checks): a retry would fail again


@dataclass(frozen=True)
class CheckOutcome:
    id: str
    exercise: str
    name: str
    points: float
    max_points: float
    passed: bool
    hidden: bool
    message: str
    outcome: Outcome
    limit_s: float | None = None   # the time limit the check ran under

    @classmethod
    def from_json(cls, data: dict) -> "CheckOutcome":
        return cls(**{**{k: data.get(k) for k in _CHECK_KEYS}, "outcome": Outcome(data.get("outcome", "passed"))})

    def to_json(self) -> dict:
        return {k: (str(v) if k == "outcome" else v) for k, v in asdict(self).items()}


_CHECK_KEYS = tuple(CheckOutcome.__dataclass_fields__)


@dataclass(frozen=True)
class Result:
    student: str
    assignment: str
    submission: str
    status: Status
    message: str
    max_score: float
    backend: str
    score: float = 0.0
    sha256: str | None = None
    checks: tuple[CheckOutcome, ...] = ()
    device: str = ""
    sandbox: dict = field(default_factory=dict)
    duration_s: float = 0.0
    assignment_version: str | None = None
    grader_version: str | None = None
    graded_at: str | None = None
    student_code_s: float | None = None
    name: str | None = None           # the display name, once the batch knows it
    lms: dict | None = None           # what the LMS exports need
    reused: bool = False
    not_graded: bool = False
    override: dict | None = None      # read back from the gradebook only
    final_score: float | None = None  # read back from the gradebook only
    error_kind: ErrorKind | None = None

    # -- built here only ---------------------------------------------------------------
    @classmethod
    def graded(cls, base: "Result", checks: list[CheckOutcome], message: str, device: str,
               student_code_s: float) -> "Result":
        return replace(base, status=Status.GRADED, checks=tuple(checks), message=message, device=device,
                       score=float(sum(c.points for c in checks)), student_code_s=round(student_code_s, 3))

    @classmethod
    def invalid(cls, base: "Result", message: str) -> "Result":
        return replace(base, status=Status.INVALID, message=message)

    @classmethod
    def error(cls, base: "Result", kind: ErrorKind, message: str) -> "Result":
        return replace(base, status=Status.ERROR, message=message, error_kind=kind)

    @classmethod
    def not_graded_item(cls, *, student: str, name: str, assignment: str, submission: str, status: str,
                        message: str, max_score: float, backend: str, lms: dict) -> "Result":
        return cls(student=student, name=name, assignment=assignment, submission=submission,
                   status=Status(status), message=message, max_score=max_score, backend=backend, lms=lms,
                   not_graded=True, sandbox={})

    def with_item(self, name: str, lms: dict, notes: list[str]) -> "Result":
        """As the batch names it: the display name, the LMS's data, intake's notes in the message."""
        return replace(self, name=name, lms=lms, message="; ".join([self.message, *notes]) if notes else self.message)

    # -- the JSON form -------------------------------------------------------------------
    def to_json(self) -> dict:
        if self.not_graded:  # the order this form always had
            return {"student": self.student, "name": self.name, "assignment": self.assignment,
                    "submission": self.submission, "sha256": self.sha256, "status": str(self.status),
                    "score": self.score, "max_score": self.max_score, "checks": [c.to_json() for c in self.checks],
                    "backend": self.backend, "device": self.device, "duration_s": self.duration_s,
                    "message": self.message, "not_graded": True, "lms": self.lms}
        out = {"student": self.student, "assignment": self.assignment, "submission": self.submission,
               "sha256": self.sha256, "status": str(self.status), "message": self.message, "score": self.score,
               "max_score": self.max_score, "checks": [c.to_json() for c in self.checks], "backend": self.backend,
               "device": self.device, "sandbox": self.sandbox, "duration_s": self.duration_s,
               "assignment_version": self.assignment_version, "grader_version": self.grader_version,
               "graded_at": self.graded_at}
        if self.student_code_s is not None:
            out["student_code_s"] = self.student_code_s
        if self.name is not None:
            out["name"] = self.name
        if self.lms is not None:
            out["lms"] = self.lms
        if self.reused:
            out["reused"] = True
        if self.final_score is not None:
            out.update(override=self.override, final_score=self.final_score)
        return out

    @classmethod
    def from_json(cls, data: dict) -> "Result":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data and k not in ("checks", "error_kind")}
        known["status"] = Status(data["status"])
        return cls(**known, checks=tuple(CheckOutcome.from_json(c) for c in data.get("checks") or ()))
