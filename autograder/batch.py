"""Grading many submissions (see :mod:`autograder.intake` for finding them): reuse, run in
parallel, record.

The executor is pluggable: anything with ``submit(fn, *args) -> Future`` (a
``concurrent.futures`` pool here; a ``dask.distributed.Client`` has the same
API). Results come back to this thread, the only one that writes files and
the gradebook.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Callable

from autograder import __version__
from autograder.feedback import graded_report
from autograder.grading import Graded, Grader
from autograder.intake import Item
from autograder.notebook import MAX_NOTEBOOK_BYTES, path_text
from autograder.record import ResultStore

INFRA = "grader infrastructure error"


def grade_one(grader: Grader, item: Item) -> Graded:
    """Grade, retrying once when the sandbox itself failed (never stored as a zero)."""
    graded = grader.grade(item.path, item.student, item.shown or None)
    if graded.json["status"] == "error" and graded.json["message"].startswith(INFRA):
        graded = grader.grade(item.path, item.student, item.shown or None)
    if item.notes:
        graded.json["message"] = "; ".join([graded.json["message"], *item.notes])
    graded.json.update(name=item.name or item.student, lms=item.lms)
    return graded


def run_batch(grader: Grader, items: list[Item], store: ResultStore, jobs: int, force: bool,
              emit: Callable[[dict], None], executor: Executor | None = None) -> list[dict]:
    results: list[dict] = []
    todo: list[Item] = []
    for item in items:
        if item.problem is not None:
            results.append(_not_graded(grader, item))
            emit(results[-1])
            continue
        prev = None if force else store.previous(grader.assignment.name, item.student)
        if prev and prev.get("status") in ("graded", "invalid") and _same_input(prev, grader, item):
            prev["reused"] = True
            results.append(prev)
            emit(prev)
        else:
            todo.append(item)
    if not todo:
        return results
    grader.sandbox.prepare()  # something will run: a warm worker's start overlaps with what follows
    if grader.solution is not None:
        grader.references  # noqa: B018 - computed once, before any worker starts
    own = executor is None
    pool = executor or ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        from tqdm import tqdm

        with tqdm(total=len(todo), unit="notebook", file=sys.stderr, disable=not sys.stderr.isatty(),
                  desc=grader.assignment.name) as bar:
            futures = [pool.submit(grade_one, grader, item) for item in todo]
            for future in as_completed(futures):
                graded: Graded = future.result()
                if graded.json["status"] != "error":  # a grader failure is never stored as a result
                    store.save(graded.json, graded_report(graded.json, graded.checks), graded.log)
                results.append(graded.json)
                emit(graded.json)
                bar.update()
    finally:
        if own:
            pool.shutdown()
    return results


def _not_graded(grader: Grader, item: Item) -> dict:
    return {"student": item.student, "name": item.name or item.student, "assignment": grader.assignment.name,
            "submission": item.shown or path_text(item.path), "sha256": None, "status": item.status, "score": 0.0,
            "max_score": grader.checkset.max_score(), "checks": [], "backend": grader.sandbox.name, "device": "",
            "duration_s": 0.0, "message": item.problem, "not_graded": True, "lms": item.lms}


def _same_input(prev: dict, grader: Grader, item: Item) -> bool:
    if not prev.get("sha256"):  # never read (e.g. over the size limit): nothing to compare
        return False
    try:
        if item.path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return False
        with open(item.path, "rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()  # in chunks: memory stays flat
    except OSError:
        return False
    return (prev.get("sha256") == digest and prev.get("assignment_version") == grader.assignment.version
            and prev.get("grader_version") == __version__)


def printable(text: str) -> str:
    """Control characters escaped, so that a student id or a message stays on its line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def human_line(result: dict) -> str:
    status = result["status"]
    head = f"{result['score']:g}/{result['max_score']:g}" if status == "graded" else status.upper()
    reused = " (unchanged, not regraded)" if result.get("reused") else ""
    return f"{printable(result['student'])}: {head} — {printable(result['message'])}{reused}"


def json_line(result: dict) -> str:
    # json.dumps escapes every control character below U+0020 but not these three, at which
    # Python's str.splitlines (and some JSON-lines readers) also break a line.
    text = json.dumps(result, ensure_ascii=False, allow_nan=False)
    return text.replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
