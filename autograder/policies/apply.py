"""The course's policies applied to the gradebook's stored results: the counted score of each.

Read-only over the gradebook: nothing here writes a score. For each student of an assignment
it takes the candidates the assignment's ``counts`` rule chooses from (the gradebook's counted
grading for ``latest``; every graded grading of a batch not undone for ``best`` and
``latest_before_due``), the student's extension (the gradebook's), the submission time each
result's LMS data holds (:mod:`autograder.policies.times`), and the late days the student's
earlier assignments (by due date, in this gradebook) already used; then
:func:`autograder.policies.counting.count`. The result gets ``policy`` (the
:class:`~autograder.policies.counting.Counted` record's JSON form) and ``final_score``: the
counted score, unless an override says otherwise (an override is the instructor's last word).
"""

from __future__ import annotations

from typing import Callable

from autograder.policies.counting import Counted, choose, count
from autograder.policies.model import Counts, CoursePolicies, Policy
from autograder.policies.times import submitted

# (assignment, result) -> the student's row of Moodle's grading worksheet, when there is one
Rows = Callable[[str, dict], "dict | None"]


def _no_rows(assignment: str, result: dict) -> None:
    return None


def apply(results: list[dict], assignment: str, policies: CoursePolicies, gradebook, rows: Rows = _no_rows
          ) -> list[dict]:
    """``results`` (the gradebook's counted ones, as :mod:`autograder.outputs.refresh` reads them)
    with the policies applied: each graded one's ``policy`` record and ``final_score``."""
    out = []
    for r in results:
        if r.get("status") == "missing":
            out.append(r)
            continue
        chosen, counted = counted_for(r["student"], assignment, policies, gradebook, rows, r)
        if chosen is not r:   # another grading counts under this rule: its checks, this student's names
            named = {k: v for k, v in (r.get("lms") or {}).items() if k in ("sis_user_id", "sis_login_id", "section")}
            chosen = {**chosen, "name": r.get("name"), "lms": {**(chosen.get("lms") or {}), **named},
                      "override": r.get("override")}
        merged = dict(chosen)
        if counted is not None:
            merged["policy"] = counted.to_json()
        override = merged.get("override")
        if override:
            merged["final_score"] = override["score"]
        elif counted is not None:
            merged["final_score"] = counted.score
        else:
            merged["final_score"] = merged.get("score", 0.0)
        out.append(merged)
    return out


def counted_for(student: str, assignment: str, policies: CoursePolicies, gradebook, rows: Rows = _no_rows,
                current: dict | None = None) -> tuple[dict, Counted | None]:
    """The result that counts for ``student`` in ``assignment`` and its counted record (None for a
    result that is not graded: the policies apply to graded work only)."""
    left = policies.course.late_days.days
    for name, policy in policies.in_due_order():
        if name == assignment:
            break
        found = _choose(student, name, policy, gradebook, rows, left)
        if found is not None:
            left -= found[1].late_days_used
    found = _choose(student, assignment, policies.of(assignment), gradebook, rows, left, current)
    if found is None:
        return current if current is not None else gradebook.get(student, assignment), None
    return found


def _choose(student: str, assignment: str, policy: Policy, gradebook, rows: Rows, left: int,
            current: dict | None = None) -> tuple[dict, Counted] | None:
    counted = current if current is not None else gradebook.get(student, assignment)
    if counted is None or counted.get("status") != "graded":
        return None
    candidates = [counted]
    if policy.counts is not Counts.LATEST:
        candidates = [h["result"] for h in gradebook.history(student, assignment)
                      if h["undone_at"] is None and h["result"].get("status") == "graded"] or [counted]
    extension = gradebook.extension(student, assignment)
    scored = [(c, count(float(c.get("score") or 0.0), float(c.get("max_score") or 0.0),
                        submitted(c.get("lms"), policy.zone, rows(assignment, c)), policy, extension, left))
              for c in candidates]
    index = choose(scored, policy.counts)
    result, record = scored[index]
    if len(candidates) == 1 and current is not None:
        result = current
    return result, record
