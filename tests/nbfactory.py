"""Builds submission notebooks for tests: the student version with answers filled in."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*\n", re.MULTILINE)


def student_notebook(assignment: str) -> dict:
    return nbformat.read(ROOT / "assignments" / assignment / f"{assignment}.ipynb", as_version=4)


def solution_notebook(assignment: str) -> dict:
    return nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)


def solution_answers(assignment: str) -> dict[str, str]:
    """grade_id -> the solution's answer source, without the solution markers."""
    out = {}
    for cell in solution_notebook(assignment).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            out[meta["grade_id"]] = _MARKERS.sub("", cell.source)
    return out


def make(path: Path, assignment: str, answers: dict[str, str] | None = None, *, solved: bool = True,
         extra: list[tuple[str | None, str]] = (), edit=None) -> Path:
    """Write a submission: solved answers, with ``answers`` (exercise -> source) overriding.

    ``extra``: (grade_id to insert after, or None for the top, source) code cells.
    ``edit``: a function applied to the notebook dict before writing.
    """
    nb = copy.deepcopy(student_notebook(assignment))
    filled = solution_answers(assignment) if solved else {}
    for exercise, source in (answers or {}).items():
        filled[f"answer_{exercise}"] = source
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in filled:
            cell.source = filled[gid]
    for n, (after, source) in enumerate(extra):
        cell = nbformat.v4.new_code_cell(source)
        cell["id"] = f"extra{n}"  # deterministic, so regenerated files are identical
        if after is None:
            nb.cells.insert(0, cell)
        else:
            idx = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == after)
            nb.cells.insert(idx + 1, cell)
    if edit is not None:
        edit(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def corpus(folder: Path, assignment: str, catalogue) -> Path:
    """An assignment's corpus as submissions: the solution, the stub, each mistake and each
    valid variation of ``catalogue`` (a module of tests/corpus)."""
    make(folder / "solution.ipynb", assignment)
    make(folder / "stub.ipynb", assignment, solved=False)
    for mistake, (exercise, source, _) in catalogue.MISTAKES.items():
        make(folder / f"mistake_{mistake}.ipynb", assignment, answers={exercise: source})
    for variation, answers in catalogue.VARIATIONS.items():
        make(folder / f"variation_{variation}.ipynb", assignment, answers=answers)
    return folder
