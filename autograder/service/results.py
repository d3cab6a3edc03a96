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


def gradebook_results(assignment) -> list[dict]:
    """Each student's counted result of ``assignment`` as the gradebook gives it to every export
    (:meth:`autograder.gradebook.Gradebook.results`): the submission that counts under the
    assignment's policy, its ``policy`` record (:mod:`autograder.service.policy`), the override
    and ``final_score`` (the counted score, or the override's), the name from the roster."""
    from autograder.gradebook import with_override
    from autograder.service.policy import as_result, counting

    overrides = {o.student_id: o.as_gradebook() for o in assignment.overrides.all()}
    mine: dict[int, list[Submission]] = {}
    for sub in assignment.submissions.select_related("student", "student__profile").defer("log"):
        mine.setdefault(sub.student_id, []).append(sub)
    out = []
    for subs in mine.values():
        student = subs[0].student
        best, record = counting(assignment, student, subs)
        if best is None:
            continue
        profile = getattr(student, "profile", None)
        result = dict(as_result(best, record), student=student.username,
                      name=getattr(profile, "display_name", "") or student.username)
        override = overrides.get(best.student_id)
        out.append(with_override(result, override) if override else result)
    return sorted(out, key=lambda r: r["student"])
