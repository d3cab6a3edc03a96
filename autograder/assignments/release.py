"""Instructors: ``autograder release`` writes what students get, after checking it is fit.

The static validation runs first (:func:`autograder.assignments.validate.static_problems`); then the
public reference is computed from the solution, every known mistake of the catalogue
must fail a public check of its exercise (or be declared ``hidden_only`` with a reason),
and the student notebook and ``public_reference.json`` are written (see
:mod:`autograder.assignments.student_files` for what they hold).
"""

from __future__ import annotations

from pathlib import Path

from autograder.assignments.course import Assignment
from autograder.errors import ReleaseError
from autograder.files import write_json
from autograder.runs.reference import compute_references
from autograder.assignments.student_files import catalogue, releasable, render, student_version
from autograder.sandbox.base import Sandbox
from autograder.assignments.validate import static_problems


def release(assignment: Assignment, sandbox: Sandbox, report=print) -> list[Path]:
    problems = static_problems(assignment, released=False)  # what `validate` finds without a run
    if problems:
        raise ReleaseError(f"{assignment.name} is not ready to release:\n  " + "\n  ".join(problems))
    public = assignment.checkset(hidden=False)
    refs = releasable(assignment, compute_references(assignment, public, sandbox, hidden=False))
    found = catalogue(assignment, refs)
    report(f"{assignment.name}: {found.summary()}")
    if found.missed:
        raise ReleaseError(f"{assignment.name}: known mistake(s) {', '.join(found.missed)} pass every public check "
                           "of their exercise: give the public checks an input that catches them, or declare "
                           "them hidden_only='the reason' in mistakes.py")
    write_json(assignment.public_reference, refs)
    out = assignment.student_notebook
    out.write_text(render(student_version(assignment, refs)), encoding="utf-8")
    return [out, assignment.public_reference]
