"""Which submission counts, and what a student may see of a result."""

from __future__ import annotations

from autograder.gradebook import counts
from autograder.service.models import Submission


def counted(submissions) -> Submission | None:
    """The counted submission among one student's submissions of one assignment, by the gradebook's
    rule (:func:`autograder.gradebook.counts`: the latest graded; an invalid one of another file
    never replaces a graded one). Failed gradings (the grader's own errors) never count."""
    best = None
    for sub in sorted(submissions, key=lambda s: s.created):
        if sub.state != Submission.State.GRADED or not sub.result:
            continue
        if best is None or counts(dict(best.result, sha256=best.sha256), dict(sub.result, sha256=sub.sha256)):
            best = sub
    return best


def for_student(result: dict, hidden_shown: bool) -> dict:
    """The result a student sees now: without the hidden checks until they are shown (the score is
    then the public checks' only, and the page says so)."""
    if hidden_shown or not any(c.get("hidden") for c in result.get("checks", [])):
        return result
    public = [c for c in result.get("checks", []) if not c.get("hidden")]
    return dict(result, checks=public, score=sum(c.get("points") or 0 for c in public),
                max_score=sum(c.get("max_points") or 0 for c in public),
                message=(result.get("message") or "") + " Hidden checks: their results are shown later.")


def pass_rates(results: list[dict]) -> list[dict]:
    """Per exercise, in the assignment's order: of the counted graded results, how many passed
    every check of the exercise (hidden ones included: for staff)."""
    rates: dict[str, dict] = {}
    for r in results:
        if r.get("status") != "graded":
            continue
        passed: dict[str, bool] = {}
        for c in r.get("checks", []):
            passed[c["exercise"]] = passed.get(c["exercise"], True) and bool(c.get("passed"))
        for exercise, ok in passed.items():
            row = rates.setdefault(exercise, {"exercise": exercise, "passed": 0, "total": 0})
            row["passed"] += ok
            row["total"] += 1
    for row in rates.values():
        row["percent"] = round(100 * row["passed"] / row["total"])
    return list(rates.values())
