"""Instructors: generate what students get from the solution source.

The student notebook is made by nbgrader's own preprocessors, in the order
``nbgrader generate_assignment`` applies them (without its database step):
solution regions become ``raise NotImplementedError()`` stubs, hidden test
blocks are removed, outputs cleared, cells locked and checksummed.
``public_reference.json`` holds the reference values of the public checks
only, so ``autograder check`` works on a student's machine without solutions.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from autograder.course import Assignment
from autograder.files import write_json
from autograder.reference import compute_references
from autograder.sandbox.base import Sandbox


def student_version(solution_path: Path) -> nbformat.NotebookNode:
    from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, ClearMarkScheme, ClearOutput,
                                        ClearSolutions, ComputeChecksums, LockCells)

    nb = nbformat.read(solution_path, as_version=4)
    resources: dict = {}
    for pp in (LockCells(), ClearSolutions(), ClearOutput(), CheckCellMetadata(), ComputeChecksums(),
               ClearHiddenTests(), ClearMarkScheme(), ComputeChecksums(), CheckCellMetadata()):
        nb, resources = pp.preprocess(nb, resources)
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def release(assignment: Assignment, sandbox: Sandbox) -> list[Path]:
    out = assignment.student_notebook
    out.write_text(render(student_version(assignment.solution_notebook)), encoding="utf-8")
    public = assignment.checkset(hidden=False)
    refs = compute_references(assignment, public, sandbox, hidden=False)
    write_json(assignment.public_reference, refs)
    return [out, assignment.public_reference]
