"""How a batch is graded, as one frozen, picklable value.

Every front end (the command line, the Dask workers, the service to come) builds one
:class:`Settings` and hands it to :func:`autograder.api.grade_batch`; a Dask worker gets
the same value and builds its sandbox from it (:func:`autograder.runs.cluster.sandbox_for`).
A new grading option is a field here and a use where it acts, nothing in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    # where and how submissions run
    backend: str = "auto"                # auto | local | docker (see autograder.sandbox.registry)
    gpu: str = "auto"                    # docker backend: auto | on | off
    unconfined: bool = False             # local backend without the kernel's confinement (trusted notebooks)
    limits: tuple[tuple[str, float], ...] = ()   # changes to the assignment's Limits: (field, value), sorted
    jobs: int = 1                        # submissions graded at once (threads), when not on Dask
    dask: str | None = None              # a Dask scheduler's address
    dask_local: int | None = None        # or a local Dask cluster of this many worker processes
    # what a batch stores
    force: bool = False                  # grade unchanged submissions again
    replace: bool = False                # an invalid result may replace a graded one of another file
    # how the LMS names things, and what goes back to it
    layout: str = "auto"
    picks: tuple[tuple[str, str], ...] = ()      # (student id, file name) chosen by the instructor
    roster: Path | None = None
    lms_column: str | None = None
    missing_as_zero: bool | None = None          # None: as the output folder remembers it (else blank)
    # the course's policies (course.toml); this batch's due date over the course's (remembered)
    due: str | None = None

    def limit_changes(self) -> dict:
        return dict(self.limits)

    def sandbox_key(self) -> tuple:
        """What decides a worker's sandbox and grader (the Dask cache's key, with the assignment)."""
        return (self.backend, self.gpu, self.unconfined, self.limits)
