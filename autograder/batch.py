"""Grading many submissions: collect, de-duplicate, reuse, run in parallel, record.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from autograder import __version__
from autograder.course import UsageError
from autograder.feedback import graded_report
from autograder.grading import Graded, Grader
from autograder.notebook import MAX_NOTEBOOK_BYTES, path_text, student_id
from autograder.record import ResultStore

INFRA = "grader infrastructure error"


@dataclass
class Item:
    """One submission to grade, or (``problem``) one that cannot be, with the reason."""

    path: Path
    student: str
    problem: str | None = None     # not graded: the result's message
    status: str = "invalid"        # of a problem: "invalid" (the student's) or "error" (the instructor's)
    notes: list[str] = field(default_factory=list)   # added to the student's result message


def _notebooks(folder: Path) -> list[Path]:
    """The .ipynb entries below ``folder``, links included (they are reported, never followed)."""
    found = []
    for root, dirs, files in os.walk(folder):  # never into a linked folder
        dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints")
        found += [Path(root) / f for f in files if f.endswith(".ipynb")]
    return sorted(found)


def _real_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _nbgrader_items(root: Path, assignment: str) -> tuple[list[Item], list[Path]]:
    """nbgrader's layout inside ``root``: one item per ``<student>/<assignment>/`` folder, its
    ``<assignment>.ipynb``, else its only notebook. The id is the student's folder, never a
    notebook's name, so a notebook planted in one student's folder is never graded as another
    student's. Also returns every notebook these folders hold."""
    items, claimed = [], []
    for student_dir in sorted(p for p in root.iterdir() if _real_folder(p) and _real_folder(p / assignment)):
        folder = student_dir / assignment
        found = _notebooks(folder)
        claimed += found
        if not found:
            continue
        student = path_text(student_dir.name)
        expected = folder / f"{assignment}.ipynb"
        chosen = expected if expected in found else found[0] if len(found) == 1 else None
        if chosen is None:
            names = ", ".join(path_text(f.relative_to(folder)) for f in found)
            items.append(Item(folder, student, problem=f"not graded: several notebooks and none named "
                                                       f"{assignment}.ipynb ({names}); keep only one"))
            continue
        others = [path_text(f.relative_to(folder)) for f in found if f != chosen]
        items.append(Item(chosen, student, notes=[f"other notebooks in your folder were not graded: "
                                                  f"{', '.join(others)}"] if others else []))
    return items, claimed


def collect(paths: list[str], assignment: str) -> tuple[list[Item], list[str]]:
    """Submissions from files and folders, and the notebooks found but ignored (with why).

    Inside a folder, each ``<student>/<assignment>/`` folder (nbgrader's layout) is one
    submission of that student; every other notebook is one submission whose student id is
    the file's stem. Two notebooks that claim one id are never merged or ranked: both are
    reported, neither is graded.
    """
    items: list[Item] = []
    ignored: list[str] = []
    for arg in paths:
        p = Path(arg)
        if p.is_dir():
            found, claimed = _nbgrader_items(p, assignment)
            items += found
            chosen = {item.path for item in found}
            ignored += [f"{path_text(f)} (not the notebook of {path_text(f.relative_to(p).parts[0])})"
                        for f in claimed if f not in chosen and not any(i.path == f.parent for i in found)]
            items += [Item(f, student_id(f, assignment)) for f in _notebooks(p) if f not in set(claimed)]
        elif p.is_file() or p.is_symlink():
            items.append(Item(p, student_id(p, assignment)))
        else:
            raise UsageError(f"{arg}: no such file or folder")
    for item in items:  # a link could hand in the solution, or another student's notebook
        if item.problem is None and item.path.is_symlink():
            item.problem = "not graded: a symbolic link, not a notebook file; hand in the notebook itself"
    unique = list({Path(os.path.abspath(item.path)): item for item in items}.values())
    by_id: dict[str, list[Item]] = {}
    for item in unique:
        by_id.setdefault(item.student, []).append(item)
    for student, claims in by_id.items():
        if len(claims) > 1:
            paths_text = " and ".join(path_text(c.path) for c in claims)
            for c in claims:
                c.problem, c.status = (f"not graded: {len(claims)} submissions claim the id {student} "
                                       f"({paths_text}); rename or remove all but one"), "error"
    return unique, ignored


def grade_one(grader: Grader, item: Item) -> Graded:
    """Grade, retrying once when the sandbox itself failed (never stored as a zero)."""
    graded = grader.grade(item.path, item.student)
    if graded.json["status"] == "error" and graded.json["message"].startswith(INFRA):
        graded = grader.grade(item.path, item.student)
    if item.notes:
        graded.json["message"] = "; ".join([graded.json["message"], *item.notes])
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
    return {"student": item.student, "assignment": grader.assignment.name, "submission": path_text(item.path),
            "sha256": None, "status": item.status, "score": 0.0, "max_score": grader.checkset.max_score(),
            "checks": [], "backend": grader.sandbox.name, "device": "", "duration_s": 0.0,
            "message": item.problem, "not_graded": True}


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
