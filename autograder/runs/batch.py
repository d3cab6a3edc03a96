"""Grading many submissions (see :mod:`autograder.lms.intake` for finding them): reuse, run in
parallel, record.

Where the submissions are graded is a *runner*: :class:`ThreadRunner` (a pool of
``jobs`` threads sharing one grader and its sandbox) or
:class:`autograder.runs.cluster.DaskRunner` (one task per submission on a Dask cluster).
Either way results come back to this thread as they are done, and this thread is the
only one that writes files and the gradebook.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
import dataclasses
from typing import Callable, Iterator, Protocol

from autograder import __version__
from autograder.outputs.feedback import render as render_feedback
from autograder.files import file_sha256
from autograder.gradebook import with_override
from autograder.runs.grading import Graded, Grader
from autograder.lms.intake import Item
from autograder.notebooks.reading import MAX_NOTEBOOK_BYTES, path_text
from autograder.outputs.result_files import ResultStore
from autograder.result import ErrorKind, Result, Status


def grade_one(grader: Grader, item: Item) -> Graded:
    """Grade, retrying once when the sandbox itself failed (never stored as a zero)."""
    graded = grader.grade(item.path, item.student, item.shown or None)
    if graded.result.error_kind is ErrorKind.INFRASTRUCTURE:
        graded = grader.grade(item.path, item.student, item.shown or None)
    return dataclasses.replace(graded, result=graded.result.with_item(item.name or item.student, item.lms, item.notes))


class Runner(Protocol):
    def prepare(self, grader: Grader) -> None:
        """Before the first submission (only when something will be graded)."""

    def results(self, grader: Grader, items: list[Item]) -> Iterator[Graded]:
        """Each item graded (by :func:`grade_one`), in the order they are done."""


class ThreadRunner:
    """``jobs`` threads in this process, sharing the grader and its sandbox."""

    def __init__(self, jobs: int):
        self.jobs = max(1, jobs)

    def prepare(self, grader: Grader) -> None:
        grader.prepare()

    def results(self, grader: Grader, items: list[Item]) -> Iterator[Graded]:
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            for future in as_completed([pool.submit(grade_one, grader, item) for item in items]):
                yield future.result()


def run_batch(grader: Grader, items: list[Item], store: ResultStore, jobs: int, force: bool,
              emit: Callable[[Result], None], runner: Runner | None = None, *, replace: bool = False,
              sources: list[str] = ()) -> list[Result]:
    """Every item's result, in the order they are done: reused when unchanged (unless
    ``force``), else graded by ``runner`` (default: ``jobs`` threads), stored as each
    arrives, here, by this thread only, as one batch of the gradebook (``sources`` name it).
    A result that may not replace the counted one (:func:`autograder.gradebook.counts`;
    ``replace`` lets it) is stored in the history only, and listed in ``store.kept``."""
    results: list[Result] = []
    todo: list[Item] = []
    store.begin_batch(grader.assignment.name, sources)
    store.kept = []
    for item in items:
        if item.problem is not None:
            results.append(_not_graded(grader, item))
            if item.status == "invalid" and not item.superseded and (
                    not _same_problem(store, results[-1])
                    or replace and not store.latest_counts(grader.assignment.name, item.student)):
                _store(store, results[-1], "", replace)
            emit(results[-1])
            continue
        prev = None if force else store.previous(grader.assignment.name, item.student)
        if prev and prev.status in (Status.GRADED, Status.INVALID) and _same_input(prev, grader, item):
            again = dataclasses.replace(prev, override=None, final_score=None, name=item.name or item.student,
                                        lms=item.lms)
            kept = not store.latest_counts(grader.assignment.name, item.student)
            if (again.name, again.lms) != (prev.name, prev.lms) or (replace and kept):
                # the same notebook under new LMS data (a late re-upload), or now allowed to count: stored
                # again as it was graded, its log left as it is
                _store(store, again, None, replace)
            results.append(dataclasses.replace(again, reused=True))
            emit(results[-1])
        else:
            todo.append(item)
    if not todo:
        return results
    runner = runner or ThreadRunner(jobs)
    runner.prepare(grader)
    from tqdm import tqdm

    with tqdm(total=len(todo), unit="notebook", file=sys.stderr, disable=not sys.stderr.isatty(),
              desc=grader.assignment.name) as bar:
        for graded in runner.results(grader, todo):
            if graded.result.status is not Status.ERROR:  # a grader failure is never stored as a result
                _store(store, graded.result, graded.log, replace)
            results.append(graded.result)
            emit(graded.result)
            bar.update()
    return results


def _store(store: ResultStore, result: Result, log: str | None, replace: bool) -> None:
    def feedback() -> dict[str, str]:
        override = store.gradebook.override(result.student, result.assignment)
        return render_feedback(with_override(result.to_json(), override))

    count, before = store.save(result, feedback, log, replace)
    if not count:
        store.kept.append((result, before))


def _same_problem(store: ResultStore, result: Result) -> bool:
    """An unchanged not-graded submission, stored before: not stored again."""
    prev = store.previous(result.assignment, result.student)
    return prev is not None and (prev.status, prev.message, prev.submission) == (
        result.status, result.message, result.submission)


def failed(grader: Grader, item: Item, message: str) -> Graded:
    """An item that could not be graded because the machinery failed (never stored)."""
    base = Result(student=item.student, assignment=grader.assignment.name,
                  submission=item.shown or path_text(item.path), status=Status.ERROR, message="",
                  max_score=grader.checkset.max_score(), backend=grader.sandbox.name)
    result = Result.error(base, ErrorKind.INFRASTRUCTURE, message)
    return Graded(result.with_item(item.name or item.student, item.lms, item.notes), "")


def _not_graded(grader: Grader, item: Item) -> Result:
    return Result.not_graded_item(student=item.student, name=item.name or item.student,
                                  assignment=grader.assignment.name, submission=item.shown or path_text(item.path),
                                  status=item.status, message=item.problem, max_score=grader.checkset.max_score(),
                                  backend=grader.sandbox.name, lms=item.lms)


def _same_input(prev: Result, grader: Grader, item: Item) -> bool:
    if not prev.sha256:  # never read (e.g. over the size limit): nothing to compare
        return False
    try:
        if item.path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return False
        digest = file_sha256(item.path)
    except OSError:
        return False
    return (prev.sha256 == digest and prev.assignment_version == grader.assignment.version
            and prev.grader_version == __version__)
