"""Grading many submissions (see :mod:`autograder.intake` for finding them): reuse, run in
parallel, record.

The executor is pluggable: anything with ``submit(fn, *args) -> Future`` (a
``concurrent.futures`` pool here). Results come back to this thread, the only one
that writes files and the gradebook.
"""

from __future__ import annotations

import hashlib
import sys
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from dataclasses import replace
from typing import Callable

from autograder import __version__
from autograder.feedback_files import render as render_feedback
from autograder.grading import Graded, Grader
from autograder.intake import Item
from autograder.notebook import MAX_NOTEBOOK_BYTES, path_text
from autograder.record import ResultStore
from autograder.result import ErrorKind, Result, Status


def grade_one(grader: Grader, item: Item) -> Graded:
    """Grade, retrying once when the sandbox itself failed (never stored as a zero)."""
    graded = grader.grade(item.path, item.student, item.shown or None)
    if graded.result.error_kind is ErrorKind.INFRASTRUCTURE:
        graded = grader.grade(item.path, item.student, item.shown or None)
    return replace(graded, result=graded.result.with_item(item.name or item.student, item.lms, item.notes))


def run_batch(grader: Grader, items: list[Item], store: ResultStore, jobs: int, force: bool,
              emit: Callable[[Result], None], executor: Executor | None = None) -> list[Result]:
    """Every item's result, in the order they are done: reused when unchanged (unless
    ``force``), else graded on ``executor`` (a thread pool of ``jobs``), stored as each
    arrives, here, by this thread only."""
    results: list[Result] = []
    todo: list[Item] = []
    for item in items:
        if item.problem is not None:
            results.append(_not_graded(grader, item))
            emit(results[-1])
            continue
        prev = None if force else store.previous(grader.assignment.name, item.student)
        if prev and prev.status in (Status.GRADED, Status.INVALID) and _same_input(prev, grader, item):
            results.append(replace(prev, reused=True, override=None, final_score=None))
            emit(results[-1])
        else:
            todo.append(item)
    if not todo:
        return results
    grader.prepare()
    own = executor is None
    pool = executor or ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        from tqdm import tqdm

        with tqdm(total=len(todo), unit="notebook", file=sys.stderr, disable=not sys.stderr.isatty(),
                  desc=grader.assignment.name) as bar:
            futures = [pool.submit(grade_one, grader, item) for item in todo]
            for future in as_completed(futures):
                graded: Graded = future.result()
                if graded.result.status is not Status.ERROR:  # a grader failure is never stored as a result
                    store.save(graded.result, render_feedback(graded.result.to_json()), graded.log)
                results.append(graded.result)
                emit(graded.result)
                bar.update()
    finally:
        if own:
            pool.shutdown()
    return results


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
        with open(item.path, "rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()  # in chunks: memory stays flat
    except OSError:
        return False
    return (prev.sha256 == digest and prev.assignment_version == grader.assignment.version
            and prev.grader_version == __version__)
