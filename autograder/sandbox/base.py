"""What every sandbox backend takes (a Job) and gives back (a RunRecord).

A RunRecord holds typed records only (:class:`~autograder.sandbox.events.Observation`,
:class:`~autograder.sandbox.events.CellRecord`); one made from their plain form (a
backend's or a test's dicts) converts them when it is made."""

from __future__ import annotations

from dataclasses import dataclass, field

from autograder.errors import SandboxUnavailable  # noqa: F401 - raised here, caught by callers
from autograder.sandbox.events import CellRecord, Observation
from autograder.sandbox.linux import SandboxError  # noqa: F401 - the backends' error, defined with the plumbing
from autograder.checks.spec import Limits


@dataclass
class Job:
    """One notebook to execute and the checks to probe afterwards."""

    label: str
    cells: list[tuple[int, str]]                 # (index, source) of the code cells to run
    check_modules: list[tuple[str, str, str]]    # (module name, file path, source) of check files
    checks: list[str]                            # check ids, in order
    exercise_of: dict[str, str]                  # check id -> exercise
    limits: Limits = field(default_factory=Limits)
    # Reference runs only: (name, source, check ids) of known mistakes; their
    # observations come back under "name::check id".
    variants: list[tuple[str, str, list[str]]] = field(default_factory=list)
    skip_cells: list[int] = field(default_factory=list)   # cells that hung or crashed in an earlier run
    # Wall-clock limits of single steps (check id -> s, cell index -> s), below the Limits'
    # per-kind ones; derived from the reference run (see autograder.checks.timelimits).
    check_limits: dict[str, float] = field(default_factory=dict)
    cell_limits: dict[int, float] = field(default_factory=dict)
    # The assignment's data files, (name, path here): each run finds them in its working
    # folder, read-only (see autograder.sandbox.datafiles).
    data: list[tuple[str, str]] = field(default_factory=list)

    def limit_of(self, kind: str, key) -> float:
        """The wall-clock limit of one step (kind "cell" or "check")."""
        if kind == "cell":
            return self.cell_limits.get(key, self.limits.cell_timeout_s)
        return self.check_limits.get(key, self.limits.check_timeout_s)


@dataclass
class RunRecord:
    """What a run gave: each check's observation (its values still encoded plain data) and
    each cell's record, by check id and cell index."""

    observations: dict[str, Observation] = field(default_factory=dict)
    cells: dict[int, CellRecord] = field(default_factory=dict)
    output: str = ""
    output_bytes: int = 0
    restarts: int = 0
    backend: str = ""
    device: str = ""
    tensorflow: str = ""
    duration_s: float = 0.0
    student_s: float = 0.0        # time inside cells and probes, as the worker measured it
    # Wall time of each step as the grader measured it, from its start event to its end:
    # "cell:<index>" or the check id -> seconds (the reference run's become time limits).
    timings: dict[str, float] = field(default_factory=dict)
    infrastructure_error: str | None = None
    sandbox: dict = field(default_factory=dict)   # the isolation the run had (Sandbox.describe)
    second: "RunRecord | None" = None   # the run of the hidden checks, when there was one

    def __post_init__(self) -> None:
        self.observations = {k: Observation.of(v) for k, v in self.observations.items()}
        self.cells = {k: CellRecord.of(v) for k, v in self.cells.items()}

    def merged(self, second: "RunRecord") -> "RunRecord":
        """This run followed by ``second``: their observations and costs together."""
        self.observations.update(second.observations)
        self.restarts += second.restarts
        self.duration_s = round(self.duration_s + second.duration_s, 3)
        self.student_s += second.student_s
        self.timings.update(second.timings)
        self.infrastructure_error = second.infrastructure_error
        self.second = second
        return self

    def beside(self, others: list["RunRecord"]) -> "RunRecord":
        """Runs of the same cells at the same time, each probing other exercises (a self-check
        on several cores): their observations together, the wall time of the longest. The
        cells' statuses are this run's; the others' output follows this one's. ``student_s``
        is the sum over the runs, so it counts the cells once per run."""
        for other in others:
            self.observations.update(other.observations)
            self.restarts += other.restarts
            self.duration_s = max(self.duration_s, other.duration_s)
            self.student_s += other.student_s
            self.timings.update({k: v for k, v in other.timings.items() if k not in self.timings})
            self.infrastructure_error = self.infrastructure_error or other.infrastructure_error
            self.output_bytes += other.output_bytes
            if other.output:
                self.output += f"\n--- output of the run beside it ---\n{other.output}"
        return self




class Sandbox:
    """A backend: ``run`` executes one job and returns its record; the rest is optional."""

    name = "abstract"

    def prepare(self) -> None:
        """Start what the first run will need, without waiting for it."""

    def run(self, job: Job) -> RunRecord:
        raise NotImplementedError

    def describe(self) -> dict:
        """The isolation a run gets, as results record it (``"sandbox"``)."""
        return {"backend": self.name}

    def close(self) -> None:
        """Stop whatever the backend keeps running between runs."""
