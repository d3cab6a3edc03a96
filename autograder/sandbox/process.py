"""What the process-based backends share: restarts, time limits, the event channel.

A backend starts a worker (:mod:`autograder.sandbox.worker`) somewhere and
hands back a pipe carrying its JSON-line events. This module enforces a
wall-clock limit on every cell and every check; when the worker hangs or dies
there, that cell or that exercise is recorded as failed and a fresh worker
resumes after it, so one bad answer never costs the others.

Each start of the worker ends in one :class:`Attempt` (how far it got, the step charged
and why); :meth:`ProcessSandbox.run` turns attempts into the run's typed record.
"""

from __future__ import annotations

import os
import secrets
import selectors
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass

from autograder.files import remove_tree
from autograder.sandbox.base import Job, RunRecord, Sandbox, SandboxError
from autograder.sandbox.events import (MAX_KEPT, CellRecord, LineReader, Malformed, Observation, Schedule,
                                       StepStatus, Violation, cell_record, malformed, observation, parse, protocol,
                                       seconds)

STARTUP_TIMEOUT_S = 180.0   # importing TensorFlow on a loaded 2-core machine
END_REPORT_S = 5.0          # after "done", for a backend's end report (cleanup takes ms)


class _OutputTap(threading.Thread):
    """Drains a child's stdout/stderr, keeping only the first ``keep`` bytes."""

    def __init__(self, stream, keep: int):
        super().__init__(daemon=True)
        self.stream, self.keep = stream, keep
        self.head = bytearray()
        self.total = 0

    def run(self) -> None:
        while True:
            chunk = self.stream.read1(65536) if hasattr(self.stream, "read1") else self.stream.read(65536)
            if not chunk:
                return
            self.total += len(chunk)
            room = self.keep - len(self.head)
            if room > 0:
                self.head += chunk[:room]


@dataclass
class Started:
    """A running worker: the process to wait for, its event pipe and output stream.

    A backend that sets ``nonce`` reports each run's end itself: one ``end`` event
    carrying that nonce, written after the run's processes are gone (``end``).
    ``status`` overrides the process's return code as the worker's exit status.
    """

    proc: subprocess.Popen
    events_fd: int
    output: object
    token: str
    nonce: str | None = None
    end: dict | None = None
    status: int | None = None
    context: object = None


@dataclass
class Attempt:
    """How one start of the worker ended: finished, or stopped at a step (``where``: ("cell",
    index) or ("check", id), None between steps) for ``reason`` (TIMEOUT, TOTAL_TIMEOUT, CRASHED
    or PROTOCOL); ``also``: an ended step the stopping event named again; ``infrastructure``: why
    the machine, not the submission, failed."""

    finished: bool = False
    ready: bool = False
    where: tuple | None = None
    also: tuple | None = None
    reason: StepStatus = StepStatus.CRASHED
    detail: str = ""
    infrastructure: str | None = None


class ProcessSandbox(Sandbox):
    """Subclasses start the worker (``_start``) and stop it for good (``_stop``)."""

    def _start(self, job: Job, workdir: str, scratch: str, job_data: dict, token: str) -> Started:
        raise NotImplementedError

    def _stop(self, started: Started) -> None:
        raise NotImplementedError

    def _infrastructure_failure(self, started: Started) -> str | None:
        """Why a run failed for reasons of the machine, not of the submission (or None)."""
        return None

    def run(self, job: Job) -> RunRecord:
        record = RunRecord(backend=self.name, sandbox=self.describe())
        started = time.monotonic()
        deadline = started + job.limits.total_timeout_s
        skip_cells: set[int] = set(job.skip_cells)
        workdir = tempfile.mkdtemp(prefix="autograder-")
        scratch = os.path.join(workdir, "scratch")
        os.mkdir(scratch)
        try:
            max_attempts = len(job.cells) + len(job.checks) + sum(len(ids) for _, _, ids in job.variants) + 2
            infra_failures = 0
            for _ in range(max_attempts):
                attempt = self._attempt(job, workdir, scratch, skip_cells, record, deadline)
                if attempt.finished:
                    break
                where, reason = attempt.where, attempt.reason
                if attempt.infrastructure is not None:  # never the student's fault: try again, then report
                    infra_failures += 1
                    if infra_failures >= 2:
                        record.infrastructure_error = attempt.infrastructure
                        break
                    record.restarts += 1
                    continue
                if where is None and not attempt.ready:
                    infra_failures += 1
                    if infra_failures >= 2 or reason is StepStatus.TOTAL_TIMEOUT:
                        record.infrastructure_error = f"the sandbox did not start ({attempt.detail})"
                        break
                elif where is None:
                    # Died between events (e.g. a student thread called os._exit):
                    # blame the next unfinished check so the run makes progress.
                    pending = [c for c in job.checks if c not in record.observations]
                    if not pending:
                        break
                    where = ("check", pending[0])
                if where is not None:
                    self._blame(job, record, skip_cells, where, reason, attempt.detail)
                if attempt.also not in (None, where):
                    self._blame(job, record, skip_cells, attempt.also, reason, attempt.detail)
                if reason is StepStatus.TOTAL_TIMEOUT:
                    for check_id in job.checks:
                        record.observations.setdefault(check_id, Observation(
                            StepStatus.TIMEOUT, whole_submission=True, limit_s=job.limits.total_timeout_s))
                    break
                record.restarts += 1
        finally:
            remove_tree(workdir)
        record.duration_s = round(time.monotonic() - started, 3)
        return record

    # ------------------------------------------------------------------

    def _blame(self, job: Job, record: RunRecord, skip_cells: set[int], where: tuple,
               reason: StepStatus, detail: str) -> None:
        kind, key = where
        timeout = reason is StepStatus.TIMEOUT
        if kind == "cell":
            skip_cells.add(key)
            record.cells[key] = CellRecord(reason, detail=detail, limit_s=job.limit_of("cell", key) if timeout else None)
            return
        if reason is StepStatus.PROTOCOL:  # the answer broke the event schedule: this check fails, the rest run
            record.observations[key] = protocol(detail)
            return
        record.observations[key] = Observation(reason, detail=detail,
                                               limit_s=job.limit_of("check", key) if timeout else None)
        exercise = job.exercise_of.get(key)
        for other in job.checks:  # the rest of that exercise would only hang or crash again
            if other not in record.observations and job.exercise_of.get(other) == exercise:
                record.observations[other] = Observation(StepStatus.SKIPPED, after=key, reason=reason)

    def _attempt(self, job: Job, workdir: str, scratch: str, skip_cells: set[int],
                 record: RunRecord, deadline: float) -> Attempt:
        job_data = {
            "cells": job.cells,
            "check_modules": job.check_modules,
            "checks": job.checks,
            "variants": job.variants,
            "skip_cells": sorted(skip_cells),
            "skip_checks": sorted(record.observations),
        }
        try:
            started = self._start(job, workdir, scratch, job_data, secrets.token_hex(16))
        except SandboxError as exc:  # counted as a start failure: retried once, then reported
            return Attempt(detail=str(exc))
        tap = _OutputTap(started.output, job.limits.output_kb * 1024)
        tap.start()
        attempt = Attempt()
        done = set(record.observations)
        steps = ([("cell", i) for i, _ in job.cells if i not in skip_cells]
                 + [("check", c) for c in job.checks if c not in done]
                 + [("check", f"{name}::{c}") for name, _, ids in job.variants for c in ids
                    if f"{name}::{c}" not in done])
        try:
            attempt = self._read_events(job, started, record, deadline, Schedule(steps))
        finally:
            self._stop(started)
            os.close(started.events_fd)
            tap.join(timeout=5)
            started.output.close()
            record.output += tap.head.decode("utf-8", "replace")
            record.output_bytes += tap.total
        infrastructure = None if attempt.finished else self._infrastructure_failure(started)
        if infrastructure:
            return Attempt(ready=attempt.ready, infrastructure=infrastructure)
        if not attempt.finished and attempt.reason is StepStatus.CRASHED:
            status = started.status if started.status is not None else started.proc.returncode
            attempt.detail = (f"killed by signal {status - 128}" if status and status > 128
                              else f"killed by signal {-status}" if status and status < 0
                              else f"exit status {status}")
        return attempt

    def _read_events(self, job: Job, started: Started, record: RunRecord, deadline: float,
                     schedule: Schedule) -> Attempt:
        """Follows the run's events until it is done, dies, breaks the schedule or runs out of time.

        Deadlines are the grader's own (see :mod:`autograder.sandbox.events`): each is set
        when a step starts or ends here, and no event can move it."""
        fd = started.events_fd
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_READ)
        reader = LineReader()
        limits = job.limits
        step_deadline = step_started = time.monotonic() + STARTUP_TIMEOUT_S
        nonce = started.nonce.encode() if started.nonce is not None else None
        kept = 0  # bytes of observations held for this run
        attempt = Attempt()
        while True:
            now = time.monotonic()
            limit_at = min(step_deadline, deadline)
            if attempt.finished and now >= limit_at:
                return attempt  # done, but no end report: the backend's _stop deals with that
            if now >= limit_at:
                attempt.where = schedule.current
                attempt.reason = StepStatus.TOTAL_TIMEOUT if deadline <= step_deadline else StepStatus.TIMEOUT
                attempt.detail = "wall-clock limit reached"
                return attempt
            if not sel.select(timeout=limit_at - now):
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:  # the worker is gone: between two steps, the one that just ended did it
                attempt.where = schedule.current or schedule.last
                return attempt
            lines = reader.feed(chunk)
            if reader.overflow:
                attempt.where, attempt.reason = schedule.current, StepStatus.CRASHED
                attempt.detail = "recorded value too large"
                return attempt
            for line in lines:
                try:
                    event = parse(line)
                except Malformed:
                    schedule.taint()  # garbage: the step in progress cannot be trusted
                    continue
                if nonce is not None and event.get("ev") == "end" and nonce in line \
                        and event.get("nonce") == started.nonce:
                    started.end = event
                    continue
                try:
                    what, step, tainted = (*schedule.take(event), None, None)[:3]
                except Violation as exc:
                    attempt.where, attempt.also, attempt.detail = exc.blame, exc.also, exc.reason
                    attempt.reason = StepStatus.PROTOCOL
                    return attempt
                if what == "ready":
                    attempt.ready = True
                    record.device = _text(event.get("device"), 100) or "cpu"
                    record.tensorflow = _text(event.get("tensorflow"), 50)
                    step_deadline = time.monotonic() + limits.cell_timeout_s
                elif what == "start":
                    step_started = time.monotonic()
                    step_deadline = step_started + job.limit_of(*step)
                elif what == "end":
                    kind, key = step
                    record.student_s += seconds(event.get("t"))
                    record.timings[f"cell:{key}" if kind == "cell" else key] = round(
                        time.monotonic() - step_started, 3)
                    if kind == "cell":
                        record.cells[key] = cell_record(event) if not tainted else CellRecord(
                            StepStatus.PROTOCOL, detail="garbage on the event channel")
                    else:
                        kept += len(line)
                        record.observations[key] = (
                            protocol("garbage on the event channel during the check") if tainted
                            else malformed() if kept > MAX_KEPT else observation(event))
                    step_deadline = time.monotonic() + limits.cell_timeout_s
                else:  # done
                    attempt.finished = True
                    if started.nonce is None:
                        return attempt
                    step_deadline = time.monotonic() + END_REPORT_S


def _text(value: object, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""
