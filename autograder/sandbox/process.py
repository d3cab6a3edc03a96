"""What the process-based backends share: restarts, time limits, the event channel.

A backend starts a worker (:mod:`autograder.sandbox.worker`) somewhere and
hands back a pipe carrying its JSON-line events. This module enforces a
wall-clock limit on every cell and every check; when the worker hangs or dies
there, that cell or that exercise is recorded as failed and a fresh worker
resumes after it, so one bad answer never costs the others.
"""

from __future__ import annotations

import json
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

MAX_EVENT_BYTES = 64 * 2**20
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


def _seconds(value: object) -> float:
    """A duration the worker reported: statistics only, never trusted for grading."""
    return float(value) if isinstance(value, (int, float)) and 0 <= value < 86400 else 0.0


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
        record = RunRecord(backend=self.name)
        started = time.monotonic()
        deadline = started + job.limits.total_timeout_s
        skip_cells: set[int] = set()
        workdir = tempfile.mkdtemp(prefix="autograder-")
        scratch = os.path.join(workdir, "scratch")
        os.mkdir(scratch)
        try:
            max_attempts = len(job.cells) + len(job.checks) + sum(len(v[2]) for v in job.variants) + 2
            infra_failures = 0
            for attempt in range(max_attempts):
                outcome = self._attempt(job, workdir, scratch, skip_cells, record, deadline)
                if outcome["finished"]:
                    break
                where, reason = outcome["where"], outcome["reason"]
                if reason == "infrastructure":  # never the student's fault: try again, then report
                    infra_failures += 1
                    if infra_failures >= 2:
                        record.infrastructure_error = outcome["detail"]
                        break
                    record.restarts += 1
                    continue
                if where is None and not outcome["ready"]:
                    infra_failures += 1
                    if infra_failures >= 2 or reason == "total_timeout":
                        record.infrastructure_error = (
                            f"the sandbox did not start ({outcome['detail']})")
                        break
                elif where is None:
                    # Died between events (e.g. a student thread called os._exit):
                    # blame the next unfinished check so the run makes progress.
                    pending = [c for c in job.checks if c not in record.observations]
                    if not pending:
                        break
                    where = ("check", pending[0])
                if where is not None:
                    self._blame(job, record, skip_cells, where, reason, outcome["detail"])
                if reason == "total_timeout":
                    for check_id in job.checks:
                        record.observations.setdefault(
                            check_id, {"status": "timeout", "scope": "submission",
                                       "limit_s": job.limits.total_timeout_s})
                    break
                record.restarts += 1
        finally:
            remove_tree(workdir)
        record.duration_s = round(time.monotonic() - started, 3)
        return record

    # ------------------------------------------------------------------

    def _blame(self, job: Job, record: RunRecord, skip_cells: set[int], where: tuple,
               reason: str, detail: str) -> None:
        kind, key = where
        if kind == "cell":
            skip_cells.add(key)
            record.cells[key] = {"status": reason, "detail": detail}
            return
        limit = job.limits.check_timeout_s if reason == "timeout" else None
        record.observations[key] = {"status": reason, "detail": detail, "limit_s": limit}
        exercise = job.exercise_of.get(key)
        for other in job.checks:  # the rest of that exercise would only hang or crash again
            if other not in record.observations and job.exercise_of.get(other) == exercise:
                record.observations[other] = {"status": "skipped", "after": key, "reason": reason}

    def _attempt(self, job: Job, workdir: str, scratch: str, skip_cells: set[int],
                 record: RunRecord, deadline: float) -> dict:
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
            return {"finished": False, "where": None, "reason": "crashed", "detail": str(exc), "ready": False}
        tap = _OutputTap(started.output, job.limits.output_kb * 1024)
        tap.start()
        outcome = {"finished": False, "where": None, "reason": "crashed", "detail": "", "ready": False}
        try:
            self._read_events(job, started, record, outcome, deadline)
        finally:
            self._stop(started)
            os.close(started.events_fd)
            tap.join(timeout=5)
            started.output.close()
            record.output += tap.head.decode("utf-8", "replace")
            record.output_bytes += tap.total
        infrastructure = None if outcome["finished"] else self._infrastructure_failure(started)
        if infrastructure:
            return {"finished": False, "where": None, "reason": "infrastructure", "detail": infrastructure,
                    "ready": outcome["ready"]}
        if not outcome["finished"] and outcome["reason"] == "crashed":
            status = started.status if started.status is not None else started.proc.returncode
            outcome["detail"] = (f"killed by signal {status - 128}" if status and status > 128
                                 else f"killed by signal {-status}" if status and status < 0
                                 else f"exit status {status}")
        return outcome

    def _read_events(self, job: Job, started: Started, record: RunRecord, outcome: dict,
                     deadline: float) -> None:
        fd = started.events_fd
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_READ)
        buffer = bytearray()
        limits = job.limits
        step_deadline = time.monotonic() + STARTUP_TIMEOUT_S
        where = None
        while True:
            now = time.monotonic()
            limit_at = min(step_deadline, deadline)
            if outcome["finished"] and now >= limit_at:
                return  # done, but no end report: the backend's _stop deals with that
            if now >= limit_at:
                outcome["where"] = where
                outcome["reason"] = "total_timeout" if deadline <= step_deadline else "timeout"
                outcome["detail"] = "wall-clock limit reached"
                return
            if not sel.select(timeout=limit_at - now):
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:  # the worker is gone
                outcome["where"] = where
                return
            buffer += chunk
            if len(buffer) > MAX_EVENT_BYTES and b"\n" not in buffer:
                outcome["where"] = where
                outcome["reason"] = "crashed"
                outcome["detail"] = "recorded value too large"
                return
            while b"\n" in buffer:
                line, _, rest = bytes(buffer).partition(b"\n")
                buffer = bytearray(rest)
                try:
                    event = json.loads(line)
                except ValueError:
                    continue  # garbage on the channel is ignored, never trusted
                if not isinstance(event, dict):
                    continue
                ev = event.get("ev")
                if ev == "end" and started.nonce is not None and event.get("nonce") == started.nonce:
                    started.end = event
                elif outcome["finished"]:
                    continue  # after "done", only the end report counts
                elif ev == "ready":
                    outcome["ready"] = True
                    record.device = str(event.get("device", "cpu"))[:100]
                    record.tensorflow = str(event.get("tensorflow", ""))[:50]
                    step_deadline = time.monotonic() + limits.cell_timeout_s
                elif ev == "cell_start" and isinstance(event.get("i"), int):
                    where = ("cell", event["i"])
                    step_deadline = time.monotonic() + limits.cell_timeout_s
                elif ev == "cell_end" and isinstance(event.get("i"), int):
                    record.student_s += _seconds(event.get("t"))
                    record.cells[event["i"]] = {k: event.get(k) for k in
                                                ("status", "exc_type", "message", "where")}
                    where = None
                    step_deadline = time.monotonic() + limits.cell_timeout_s
                elif ev == "check_start" and event.get("id") in job.exercise_of:
                    where = ("check", event["id"])
                    step_deadline = time.monotonic() + limits.check_timeout_s
                elif ev == "check_end" and where == ("check", event.get("id")):
                    record.student_s += _seconds(event.get("t"))
                    # Only for the check in progress, and the first one wins.
                    record.observations.setdefault(
                        event["id"], {k: v for k, v in event.items() if k not in ("ev", "id", "t")})
                    where = None
                    step_deadline = time.monotonic() + limits.cell_timeout_s
                elif ev == "done":
                    outcome["finished"] = True
                    if started.nonce is None:
                        return
                    step_deadline = time.monotonic() + END_REPORT_S
