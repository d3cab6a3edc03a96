"""After grading: every file made from the gradebook, refreshed together.

``grade``, ``report`` and ``override`` all end here, so the exports (analysis CSVs,
Gradescope JSON, the LMS files of :mod:`autograder.lms.exports`), the report and a
student's feedback never disagree with the gradebook. What a batch could not grade
(invalid, superseded, colliding submissions) is kept beside the LMS settings
(:mod:`autograder.lms.context`), so the report names them too.

Every output reads the *counted* score: the course's policies (due dates, late penalties, late
days, extensions, which submission counts: :mod:`autograder.policies.apply`) applied to the
stored automatic scores here, at each refresh, and an override over all of it. So an extension
granted after grading, or a changed due date, changes every file on the next refresh, and never
a stored score.
"""

from __future__ import annotations

from pathlib import Path

from autograder.lms.context import not_graded
from autograder.lms.exports import export_lms, missing_results, settings_folder
from autograder.lms.roster import load
from autograder.policies.apply import apply
from autograder.policies.model import NO_POLICIES, CoursePolicies


def stored(out: Path, assignment: str, gradebook, policies: CoursePolicies = NO_POLICIES) -> list[dict]:
    """The counted results, named and identified from the remembered roster, the policies applied."""
    results = gradebook.results(assignment)
    roster = load(settings_folder(out, assignment))
    if roster is not None:
        for r in results:
            person = roster.find(r["student"], r.get("name") or "")
            if person is not None:
                r["name"] = person.name
                r["lms"] = {**(r.get("lms") or {}), "sis_user_id": person.sis_user_id,
                            "sis_login_id": person.sis_login_id, "section": person.section}
    return apply(results, assignment, policies, gradebook, worksheet_rows(out))


def worksheet_rows(out: Path):
    """(assignment, result) -> the student's row of the Moodle grading worksheet given as that
    assignment's roster (its ``Last modified (submission)`` is the submission time)."""
    cache: dict[str, object] = {}

    def row(assignment: str, result: dict) -> dict | None:
        if assignment not in cache:
            cache[assignment] = load(settings_folder(out, assignment))
        roster = cache[assignment]
        if roster is None or roster.kind != "moodle-worksheet":
            return None
        pid = str((result.get("lms") or {}).get("participant") or result["student"])
        return next((r for r in roster.rows if r.get("Identifier", "").rsplit(" ", 1)[-1] == pid), None)
    return row


def missing(out: Path, assignment: str, gradebook) -> list[dict]:
    results = gradebook.results(assignment)
    max_score = max((r.get("max_score") or 0 for r in results), default=0)
    claimed = {r["student"] for r in not_graded(out, assignment)}
    return missing_results(results, load(settings_folder(out, assignment)), assignment, max_score, claimed)


def refresh(out: Path, assignment: str, gradebook, policies: CoursePolicies = NO_POLICIES
            ) -> tuple[list[Path], list[str]]:
    """Every student's feedback, every export and the report, from the gradebook's counted
    results (the course's ``policies``, overrides and the roster's names included); the report's
    page comes last. Also returns what the instructor should be told about the LMS files."""
    from autograder.outputs.tables import export_all
    from autograder.outputs.feedback import render
    from autograder.outputs.result_files import write_feedback
    from autograder.outputs.report import report

    results = stored(out, assignment, gradebook, policies)
    for r in results:
        write_feedback(out, assignment, r["student"], render(r))
    absent = missing(out, assignment, gradebook)
    lms_files, notes = export_lms(out, assignment, results, absent)
    written = export_all(out, assignment, results)[:2] + lms_files
    written.append(report(out, assignment, results, not_graded(out, assignment), absent))
    return written, notes
