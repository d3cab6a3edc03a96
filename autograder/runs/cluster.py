"""Batches on a Dask cluster: one task per submission, results back as plain data.

``grade --dask ADDRESS`` connects to a running scheduler; ``--dask-local N`` starts a
``LocalCluster`` of N single-threaded worker processes on this machine. Each task
grades one submission with :func:`autograder.runs.batch.grade_one` (so an infrastructure
failure is retried once there, as in a thread) and returns the result's JSON form, why
it failed (if it did) and the instructor log: plain data, never a ``Grader``.

Each worker process builds its grader once per assignment version and sandbox
settings (:data:`_GRADERS`, a per-process cache) with the reference observations the
calling process computed once and scattered to every worker: no worker runs the
solution. The calling process stays the only writer of files and of the gradebook
(:func:`autograder.runs.batch.run_batch`), so reuse and durability are as without Dask. A
worker that dies mid-task has its task rerun on another worker by the scheduler; a task
that cannot be done at all comes back as an error result (never stored), not lost.

Workers open the course and the submissions by the caller's (absolute) paths: on one
machine that holds; on a cluster they need a shared filesystem (as Slurm clusters have; a
shared volume on Kubernetes). A result that names another student or assignment, or a
notebook whose hash is not the caller's, is an error, never stored. Workers are trusted
like the grading machine itself: they run the grader and see the solutions, so a shared
cluster must admit only the course's own workers (TLS, see docs/cluster.md).
"""

from __future__ import annotations

import atexit
import threading
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Iterator

from autograder.runs.batch import failed, grade_one
from autograder.assignments.course import Assignment
from autograder.errors import UsageError
from autograder.files import file_sha256
from autograder.runs.grading import Graded, Grader
from autograder.lms.intake import Item
from autograder.result import ErrorKind, Result
from autograder.settings import Settings


@dataclass(frozen=True)
class GraderSpec:
    """How a worker builds its grader: the assignment, its version, and the batch's settings
    (one picklable value); the cache's key."""

    assignment: Assignment
    version: str                  # the caller's assignment version: a worker's course must be the same
    settings: Settings = Settings(backend="local", gpu="off")

    def key(self) -> tuple:
        return (self.assignment, self.version, *self.settings.sandbox_key())


WAIT_FOR_WORKERS_S = 600
CONNECT_S = 30   # how long a scheduler's address is tried before it is said not to answer
_GRADERS: dict[tuple, Grader] = {}
_LOCK = threading.Lock()


def sandbox_for(spec: GraderSpec):
    """The worker's own sandbox (as ``grade --backend`` would make it on that machine)."""
    from autograder.sandbox.registry import make_sandbox

    return make_sandbox(spec.settings.backend, spec.settings.gpu, spec.settings.unconfined)


def _grader(spec: GraderSpec, references: dict) -> Grader:
    with _LOCK:
        grader = _GRADERS.get(spec.key())
        if grader is None:
            # Rebuilt, so that its version is computed from this worker's files, not carried along.
            assignment = Assignment(spec.assignment.name, spec.assignment.release_dir, spec.assignment.solution_dir)
            if assignment.version != spec.version:
                raise RuntimeError(f"the course of {assignment.name} on this worker is not the caller's (version "
                                   f"{assignment.version}, not {spec.version}): give every worker the same files")
            grader = Grader(assignment, sandbox_for(spec), limits=spec.settings.limit_changes(),
                            references=references)
            grader.sandbox.prepare()
            atexit.register(grader.sandbox.close)
            _GRADERS[spec.key()] = grader
    return grader


def grade_task(spec: GraderSpec, references: list, item: Item) -> dict:
    """One submission, on a worker: plain data back (see :func:`from_plain`)."""
    graded = grade_one(_grader(spec, references[0]), item)
    kind = graded.result.error_kind
    return {"result": graded.result.to_json(), "error_kind": kind.value if kind else None, "log": graded.log}


def from_plain(data: dict) -> Graded:
    result = Result.from_json(data["result"])
    if data.get("error_kind"):
        result = Result.error(result, ErrorKind(data["error_kind"]), result.message)
    return Graded(result, data.get("log", ""))


class DaskRunner:
    """A :class:`autograder.runs.batch.Runner` on a ``dask.distributed.Client``."""

    def __init__(self, client, spec: GraderSpec):
        self.client = client
        self.spec = spec
        self._references = None

    def prepare(self, grader: Grader) -> None:
        references = grader.references()  # computed (or read from the cache) once, here
        try:  # a cluster just asked for (e.g. Slurm jobs still queued) has no worker yet
            self.client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_S)
        except TimeoutError:
            raise UsageError(f"no Dask worker joined the scheduler within {WAIT_FOR_WORKERS_S} s") from None
        self._references = self.client.scatter([references], broadcast=True, hash=False)

    def results(self, grader: Grader, items: list[Item]) -> Iterator[Graded]:
        from distributed import as_completed

        # Workers may have another working folder: every path they open is absolute.
        futures = {self.client.submit(grade_task, self.spec, self._references,
                                      replace(item, path=item.path.resolve()), pure=False): item
                   for item in items}
        for future in as_completed(futures):
            item = futures[future]
            try:
                graded = from_plain(future.result())
            except Exception as exc:  # noqa: BLE001 - a task the cluster could not run: an error result
                yield failed(grader, item, f"grader infrastructure error: the cluster could not grade it "
                                           f"({type(exc).__name__}: {str(exc)[:300]})")
                continue
            mismatch = _mismatch(graded.result, grader, item)
            yield failed(grader, item, f"grader infrastructure error: {mismatch}") if mismatch else graded


def _mismatch(result: Result, grader: Grader, item: Item) -> str | None:
    """Why a worker's result is not this item's (a mixed-up path, another course), or None."""
    if (result.student, result.assignment) != (item.student, grader.assignment.name):
        return f"a worker answered for {result.student} in {result.assignment}, not this submission"
    if result.sha256 is not None:
        try:
            digest = file_sha256(item.path)
        except OSError:
            digest = None
        if digest != result.sha256:
            return "the notebook a worker graded is not the one here (is the filesystem shared?)"
    return None


@contextmanager
def dask_client(address: str | None, local_workers: int | None):
    """A client of the scheduler at ``address``, or of a new ``LocalCluster`` of
    ``local_workers`` single-threaded worker processes, closed afterwards."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--dask needs dask.distributed: pip install 'tf-autograder[cluster]'") from None
    if address:
        try:
            client = Client(address, timeout=CONNECT_S)
        except OSError as exc:
            raise UsageError(f"--dask {address}: no Dask scheduler answers there ({exc})") from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client
