"""A sandbox job for one notebook of an assignment: its cells, then its checks.

Built for a submission (:mod:`autograder.runs.grading`) and for the solution with its known
mistakes (:mod:`autograder.runs.reference`); the hidden check file goes into a job only when
the job runs hidden checks, so a public run never has a hidden input inside it.
"""

from __future__ import annotations

from pathlib import Path

from autograder.assignments.course import Assignment
from autograder.sandbox.base import Job
from autograder.checks.spec import Check, Limits, swapped_id


def build_job(label: str, assignment: Assignment, plan: list, checks: list[Check], limits: Limits,
              hidden: bool, mistakes: list = (), skip_cells: list[int] = (),
              check_limits: dict[str, float] | None = None, data: list[tuple[str, str]] = (),
              swapped: bool = False) -> Job:
    """One sandbox run: the cells of ``plan``, then ``checks``; the hidden check file is
    loaded only when ``hidden``. ``swapped`` (reference runs only): each public check that
    declares ``swappable`` is probed again on its swapped inputs, after every check (see
    :meth:`~autograder.checks.spec.Check.swapped`). ``mistakes`` (reference runs only) are probed last."""
    exercise_of = {c.id: c.exercise for c in checks}
    order = [c.id for c in checks]
    if swapped:
        extra = [c for c in checks if c.swappable and not c.hidden]
        order += [swapped_id(c.id) for c in extra]
        exercise_of.update({swapped_id(c.id): c.exercise for c in extra})
    variants = []
    for m in mistakes:
        ids = [c.id for c in checks if c.exercise == m.exercise]
        variants.append((m.name, m.source, ids))
        exercise_of.update({f"{m.name}::{i}": m.exercise for i in ids})
    return Job(
        label=label,
        cells=[(i, c.source) for i, c in enumerate(plan)],
        check_modules=[(name, path, Path(path).read_text(encoding="utf-8"))
                       for name, path in assignment.check_files(hidden)],
        checks=order,
        exercise_of=exercise_of,
        limits=limits,
        variants=variants,
        skip_cells=list(skip_cells),
        check_limits={cid: t for cid, t in (check_limits or {}).items() if cid in exercise_of},
        data=list(data),
    )
