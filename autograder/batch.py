"""Grading many submissions: collect, de-duplicate, reuse, run in parallel, record."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from autograder import __version__
from autograder.course import UsageError
from autograder.feedback import graded_report
from autograder.grading import Graded, Grader
from autograder.notebook import student_id
from autograder.record import ResultStore


@dataclass
class Item:
    path: Path
    student: str
    superseded_by: Path | None = None


def collect(paths: list[str], assignment: str) -> list[Item]:
    """Submissions from files and folders; the latest file wins per student."""
    files: list[Path] = []
    for arg in paths:
        p = Path(arg)
        if p.is_dir():
            files += sorted(f for f in p.rglob("*.ipynb")
                            if ".ipynb_checkpoints" not in f.parts and f.is_file())
        elif p.is_file():
            files.append(p)
        else:
            raise UsageError(f"{arg}: no such file or folder")
    items = [Item(f, student_id(f, assignment)) for f in dict.fromkeys(files)]
    latest: dict[str, Item] = {}
    for item in items:
        best = latest.get(item.student)
        if best is None or item.path.stat().st_mtime > best.path.stat().st_mtime:
            latest[item.student] = item
    for item in items:
        if latest[item.student] is not item:
            item.superseded_by = latest[item.student].path
    return items


def run_batch(grader: Grader, items: list[Item], store: ResultStore, jobs: int, force: bool,
              emit: Callable[[dict], None]) -> list[dict]:
    results: list[dict] = []
    lock = threading.Lock()

    def one(item: Item) -> dict:
        if item.superseded_by is not None:
            return {"student": item.student, "assignment": grader.assignment.name,
                    "submission": str(item.path), "status": "invalid", "score": 0.0, "checks": [],
                    "message": f"not graded: superseded by {item.superseded_by} "
                               "(two submissions for one student: the latest modification time wins)"}
        graded = _grade_or_reuse(grader, item, store, force)
        with lock:
            results.append(graded)
            emit(graded)
        return graded

    todo = [i for i in items if i.superseded_by is None]
    skipped = [one(i) for i in items if i.superseded_by is not None]
    for s in skipped:
        emit(s)
    if grader.solution is not None and todo:
        grader.references  # noqa: B018 - compute the reference once, before the workers start
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(one, todo))
    return results + skipped


def _grade_or_reuse(grader: Grader, item: Item, store: ResultStore, force: bool) -> dict:
    if not force:
        prev = store.previous(grader.assignment.name, item.student)
        if prev and prev.get("status") in ("graded", "invalid") and _same_input(prev, grader, item):
            prev["reused"] = True
            return prev
    graded: Graded = grader.grade(item.path, item.student)
    if graded.json["status"] != "error":  # a grader failure is never stored as a result
        store.save(graded.json, graded_report(graded.json, graded.checks), graded.log)
    return graded.json


def _same_input(prev: dict, grader: Grader, item: Item) -> bool:
    import hashlib

    try:
        digest = hashlib.sha256(item.path.read_bytes()).hexdigest()
    except OSError:
        return False
    return (prev.get("sha256") == digest and prev.get("submission") == str(item.path)
            and prev.get("assignment_version") == grader.assignment.version
            and prev.get("grader_version") == __version__)


def human_line(result: dict) -> str:
    status = result["status"]
    if status == "graded":
        head = f"{result['score']:g}/{result['max_score']:g}"
    else:
        head = status.upper()
    reused = " (unchanged, not regraded)" if result.get("reused") else ""
    return f"{result['student']}: {head} — {result['message']}{reused}"


def json_line(result: dict) -> str:
    return json.dumps(result, ensure_ascii=False, allow_nan=False)
