"""A sandbox that runs nothing, for fast tests of what happens around a run.

:class:`FakeSandbox` answers every job with canned observations, so the grader's own
logic (assembling, judging, results, reuse, storage, exports) is tested in-process,
without TensorFlow or a worker. The course is the scaffold of ``autograder new``
(one exercise, ``scale``, with a public and a hidden check and one known mistake).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from autograder.checks.plaindata import encode
from autograder.sandbox.base import Job, RunRecord, Sandbox

NAME = "04_scale"
PUBLIC, HIDDEN = "scale.small_vector", "scale.negative_factor"


def observation(values: list[float]) -> dict:
    return {"status": "ok", "values": {"value": encode(np.asarray(values, dtype=np.float32))}}


RIGHT = observation([2.0, 4.0, 6.0])
WRONG = observation([3.0, 4.0, 5.0])


class FakeSandbox(Sandbox):
    """``answers``: job label (a student id, or "... (solution)") -> {check id: observation};
    a check missing there gets ``RIGHT``. ``infrastructure``: labels whose next runs fail as a
    broken sandbox would (a count each), to test the retry."""

    name = "fake"

    def __init__(self, answers: dict[str, dict[str, dict]] | None = None,
                 infrastructure: dict[str, int] | None = None):
        self.answers = answers or {}
        self.infrastructure = dict(infrastructure or {})
        self.jobs: list[Job] = []
        self.prepared = 0
        self._lock = threading.Lock()  # run_batch calls run from a thread pool

    def prepare(self) -> None:
        self.prepared += 1

    def run(self, job: Job) -> RunRecord:
        with self._lock:
            self.jobs.append(job)
            if self.infrastructure.get(job.label, 0) > 0:
                self.infrastructure[job.label] -= 1
                return RunRecord(backend=self.name, infrastructure_error="the fake worker died")
        canned = self.answers.get(job.label, {})
        observations = {cid: dict(canned.get(cid, RIGHT)) for cid in job.checks}
        for name, _source, ids in job.variants:  # a known mistake records other values
            observations.update({f"{name}::{cid}": dict(WRONG) for cid in ids})
        cells = {index: {"status": "ok"} for index, _ in job.cells}
        return RunRecord(observations=observations, cells=cells, backend=self.name, device="cpu",
                         tensorflow="fake", duration_s=0.01, timings={cid: 0.01 for cid in job.checks},
                         sandbox=self.describe())

    def describe(self) -> dict:
        return {"backend": self.name, "confined": True}


def course(root: Path) -> Path:
    """The scaffold's course under ``root`` (its solution passes; stubs raise NotImplementedError)."""
    from autograder.assignments.scaffold import scaffold

    scaffold(root, NAME)
    return root
