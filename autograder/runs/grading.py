"""The flow of one submission: read -> run (sandbox) -> judge -> result.

:class:`Grader` holds what is computed once per assignment (checks,
solution, reference observations) and grades submissions one at a time;
batch orchestration (parallelism, reuse, output) lives in :mod:`autograder.runs.batch`.
"""

from __future__ import annotations

import json
import re
import threading
import time
import traceback
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from autograder import __version__
from autograder.assignments.course import Assignment
from autograder.runs.job_builder import build_job
from autograder.checks.judge import SYNTAX_ERRORS, defines, judge_all, syntax_problem
from autograder.notebooks.reading import InvalidSubmission, assemble, path_text, read_notebook
from autograder.runs.reference import references
from autograder.result import CheckOutcome, ErrorKind, Outcome, Result, Status
from autograder.sandbox.base import RunRecord, Sandbox
from autograder.sandbox.events import Observation, StepStatus
from autograder.checks.spec import Check
from autograder.checks.timelimits import JUDGE_S, MIN_RUN_S, calibration_s, check_limits, slowdown, submission_budget


@dataclass(frozen=True)
class Graded:
    """One submission graded: its result, and the instructor-only log of its run."""

    result: Result
    log: str = ""


class Grader:
    """``include_hidden``: grade with the hidden checks (a batch) or the public ones only (a
    self-check). ``limits``: changes to the assignment's own limits (``Limits`` field ->
    value, e.g. from the command line). ``references``: reference observations to use as
    they are (the shipped public ones, for ``check``); else computed once, by :meth:`prepare`
    or the first grade."""

    def __init__(self, assignment: Assignment, sandbox: Sandbox, *, include_hidden: bool = True,
                 limits: dict | None = None, references: dict | None = None, public_runs: int = 1):
        self.assignment = assignment
        self.sandbox = sandbox
        self.include_hidden = include_hidden
        self.public_runs = public_runs
        checkset = assignment.checkset(include_hidden)
        self.checkset = replace(checkset, limits=replace(checkset.limits, **(limits or {})))
        self.solution = assignment.load_solution() if assignment.solution_dir else None
        self._references = references
        self._calibration: float | None = None
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """Before a batch's first submission: start the sandbox's warm worker (its start overlaps
        with what follows), compute the reference once, before any worker needs it, and time
        the machine's calibration here, not in a grading thread."""
        self.sandbox.prepare()
        self.references()
        self._check_limits()

    def references(self) -> dict:
        if self._references is None:
            if self.solution is None:  # a student's machine: only the public reference ships
                self._references = self.assignment.load_public_reference()
            else:
                self._references = references(self.assignment, self.checkset, self.sandbox, self.include_hidden)
        return self._references

    def _skeleton(self) -> dict:
        """The solution skeleton that submissions are assembled on."""
        if self.solution is not None:
            return self.solution
        nb, _ = read_notebook(self.assignment.student_notebook)
        return nb

    def grade(self, path: Path, student: str, shown: str | None = None) -> Graded:
        """``shown``: how results name the submission (an archive's member), else its path."""
        started = time.monotonic()
        base = Result(
            student=student, assignment=self.assignment.name, submission=shown or path_text(path),
            status=Status.ERROR, message="", max_score=self.checkset.max_score(), backend=self.sandbox.name,
            sandbox=self.sandbox.describe(),
            assignment_version=self.assignment.version if self.solution is not None else None,
            grader_version=__version__, graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        try:
            nb, digest = read_notebook(path)
            base = replace(base, sha256=digest)
            plan, notes = assemble(self._skeleton(), nb, self.assignment.name)
            del nb  # up to a few hundred MB for a big notebook: not kept while the sandbox runs
            refs = self.references()
            timed = self._check_limits()
            record = self._run(student, plan, timed)
            if record.infrastructure_error:
                return _finish(Result.error(base, ErrorKind.INFRASTRUCTURE,
                                            f"grader infrastructure error: {record.infrastructure_error}"),
                               started, record.output)
            for cid, obs in record.observations.items():  # a timeout says what the solution took
                if obs.status is StepStatus.TIMEOUT and cid in (refs.get("timings") or {}):
                    obs.reference_s = refs["timings"][cid]
            checks = judge_all(self.checkset.checks, record.observations, refs,
                               syntax_errors(plan, record, self.checkset.exercises()))
            default = self.checkset.limits.check_timeout_s
            outcomes = [replace(c, limit_s=timed.get(c.id, default)) for c in checks]  # the limit it ran under
            return _finish(Result.graded(base, outcomes, _summary(checks, notes), record.device, record.student_s),
                           started, _log(plan, record))
        except InvalidSubmission as exc:
            name = path_text(Path(shown).name if shown else path.name)
            return _finish(Result.invalid(base, f"{name}: {exc}"), started, "")
        except Exception as exc:  # noqa: BLE001 - a grader bug must not stop the batch
            return _finish(Result.error(base, ErrorKind.GRADER, f"grader error: {type(exc).__name__}: {exc}"),
                           started, traceback.format_exc())

    def _run(self, student: str, plan: list, timed: dict[str, float]) -> RunRecord:
        """The public checks in a run that never sees a hidden input; then, in a fresh run,
        the hidden checks. So nothing a public check reports (which may quote what the
        student's code raised or printed) can carry a hidden input: none was there yet."""
        checks, limits = self.checkset.checks, self.checkset.limits
        public = [c for c in checks if not c.hidden]
        # One budget for both runs and the judging (see autograder.checks.timelimits): the hidden run
        # gets what the public one left, so its cells never get a second budget.
        budget = submission_budget(timed, [c.id for c in checks], limits.check_timeout_s, limits.cell_timeout_s,
                                   limits.total_timeout_s, 2 if len(public) < len(checks) else 1)
        runs_s = budget - min(JUDGE_S, budget / 4)  # the rest is the judge's
        deadline = time.monotonic() + runs_s
        first = replace(limits, total_timeout_s=min(limits.total_timeout_s, runs_s))

        def run_public(group: list[Check]) -> RunRecord:
            return self.sandbox.run(build_job(student, self.assignment, plan, group, first, hidden=False,
                                              check_limits=timed, data=self.checkset.data))

        groups = exercise_groups(public, self.public_runs)
        record = side_by_side(run_public, groups) if len(groups) > 1 else run_public(public)
        _submission_limit(record, budget)
        hidden = [c for c in checks if c.hidden]
        if record.infrastructure_error or not hidden:
            return record
        # An exercise whose public check hung or crashed would only do it again.
        stopped = {c.exercise for c in public if c.id in record.observations
                   and record.observations[c.id].status in (StepStatus.TIMEOUT, StepStatus.CRASHED)}
        for c in hidden:
            if c.exercise in stopped:
                record.observations[c.id] = Observation(StepStatus.SKIPPED)  # after a public check
        hidden = [c for c in hidden if c.exercise not in stopped]
        if not hidden:
            return record
        left = deadline - time.monotonic()
        if left < min(MIN_RUN_S, budget / 4):  # the public run used the budget: the hidden checks ran out of time
            for c in hidden:
                record.observations[c.id] = Observation(StepStatus.TIMEOUT, whole_submission=True, limit_s=budget)
            return record
        skip = [i for i, cell in record.cells.items()
                if cell.status in (StepStatus.TIMEOUT, StepStatus.CRASHED, StepStatus.PROTOCOL)]
        second = self.sandbox.run(build_job(student, self.assignment, plan, hidden,
                                            replace(limits, total_timeout_s=round(left, 1)), hidden=True,
                                            skip_cells=skip, check_limits=timed, data=self.checkset.data))
        _submission_limit(second, budget)
        return record.merged(second)

    def _check_limits(self) -> dict[str, float]:
        """Each check's time limit from the solution's time on it (see autograder.checks.timelimits)."""
        refs = self.references()
        timings = refs.get("timings") or {}
        if not timings:  # a shipped public reference: no timings, the assignment's limits
            return {}
        with self._lock:
            if self._calibration is None:  # once per grader: the machine as it is now
                self._calibration = calibration_s()
        factor = slowdown(refs.get("calibration_s"), self._calibration)
        return check_limits(timings, {c.id: c.allowance_s for c in self.checkset.checks},
                            self.checkset.limits.check_timeout_s, factor)

def side_by_side(run, groups: list[list[Check]]) -> RunRecord:
    """``run`` of each group at once: the first in this thread, so that Ctrl-C stops it (and
    the command) at once; the others in daemon threads, which never hold up the exit (closing
    the sandbox ends their runs). An exception of any run is raised here."""
    outcomes: list = [None] * len(groups)

    def work(i: int) -> None:
        try:
            outcomes[i] = run(groups[i])
        except BaseException as exc:  # noqa: BLE001 - raised again in the calling thread
            outcomes[i] = exc

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(1, len(groups))]
    for thread in threads:
        thread.start()
    first = run(groups[0])
    for thread in threads:
        thread.join()
    for outcome in outcomes[1:]:
        if isinstance(outcome, BaseException):
            raise outcome
    return first.beside(outcomes[1:])


def exercise_groups(checks: list[Check], n: int) -> list[list[Check]]:
    """``checks`` in at most ``n`` groups of whole exercises, for runs side by side. An exercise
    whose work the student chooses (``allowance_s``) weighs that allowance, any other one second
    a check: the costliest exercises go first, each to the lightest group."""
    by_exercise: dict[str, list[Check]] = {}
    for c in checks:
        by_exercise.setdefault(c.exercise, []).append(c)
    weight = {e: sum(c.allowance_s or 1.0 for c in cs) for e, cs in by_exercise.items()}
    groups: list[list[str]] = [[] for _ in range(max(1, min(n, len(by_exercise))))]
    loads = [0.0] * len(groups)
    for e in sorted(by_exercise, key=lambda e: -weight[e]):
        i = loads.index(min(loads))
        groups[i].append(e)
        loads[i] += weight[e]
    order = list(by_exercise)
    groups = sorted((g for g in groups if g), key=lambda g: min(order.index(e) for e in g))
    return [[c for c in checks if c.exercise in g] for g in groups]


def syntax_errors(plan: list, record: RunRecord, exercises: list[str]) -> dict[str, str]:
    """exercise -> how its answer cell fails to compile, for answer cells the run reported as
    syntax errors. Compiled here (never run), so the words match a notebook's own check cells."""
    out: dict[str, str] = {}
    for index, cell in enumerate(plan):
        info = record.cells.get(index)
        if cell.origin != "answer" or info is None or info.status is not StepStatus.ERROR \
                or info.exc_type not in SYNTAX_ERRORS:
            continue
        problem = syntax_problem(cell.source)
        for exercise in exercises:
            if problem and (cell.label == f"answer_{exercise}" or defines(cell.source, exercise)):
                out.setdefault(exercise, problem)
    return out


def _submission_limit(record: RunRecord, budget: float) -> None:
    """A check stopped by the run's total limit says the submission's budget ran out."""
    for obs in record.observations.values():
        if obs.status is StepStatus.TIMEOUT and obs.whole_submission:
            obs.limit_s = budget


def _finish(result: Result, started: float, log: str) -> Graded:
    return Graded(replace(result, duration_s=round(time.monotonic() - started, 3)), log)


def _summary(checks: list[CheckOutcome], notes: list[str]) -> str:
    passed = sum(c.passed for c in checks)
    parts = [f"{passed}/{len(checks)} checks passed"]
    troubles = [c.outcome for c in checks if c.outcome in (Outcome.TIMEOUT, Outcome.CRASHED)]
    if troubles:
        parts.append(", ".join(f"{troubles.count(t)} {t}" for t in sorted(set(troubles))))
    parts += notes
    return "; ".join(parts)


def _log(plan: list, record: RunRecord) -> str:
    """Instructor-only log: may contain hidden inputs the student printed."""
    lines = [f"backend={record.backend} device={record.device} tensorflow={record.tensorflow} "
             f"restarts={record.restarts} duration_s={record.duration_s}",
             "sandbox=" + json.dumps(record.sandbox, sort_keys=True)]
    runs = [("", record)] + ([(" (run of the hidden checks)", record.second)] if record.second else [])
    for title, run in runs:
        for index, cell in enumerate(plan):
            info = run.cells.get(index)
            if info and info.status is not StepStatus.OK:
                lines.append(f"cell {cell.label} ({cell.origin}){title}: {info.status} "
                             f"{info.exc_type} {info.message or info.detail}")
        lines.append(f"--- output{title} ({run.output_bytes} bytes, first part kept) ---")
        lines.append(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", run.output))
    return "\n".join(lines)


# Control characters of the student's output, shown escaped: none reaches a TA's terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
