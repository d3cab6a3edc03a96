"""After grading: every file made from the gradebook, refreshed together; the summary and the
terminal lines (one per result, human or JSON).

``grade``, ``report`` and ``override`` all end here, so the exports (analysis CSVs,
Gradescope JSON, the LMS files of :mod:`autograder.lms_exports`), the report and a
student's feedback never disagree with the gradebook. What a batch could not grade
(invalid, superseded, colliding submissions) is kept beside the LMS settings, so the
report names them too.
"""

from __future__ import annotations

import json
from pathlib import Path

from autograder.files import write_json
from autograder.lms_exports import export_lms, missing_results, settings_folder
from autograder.lms_exports import remember as remember_lms
from autograder.roster import Roster, load
from autograder.roster import read_roster as _read_roster

NOT_GRADED = "not_graded.json"


def read_roster(path: Path) -> Roster:
    return _read_roster(path)


def name_from_roster(items: list, roster: Roster | None) -> None:
    """Display names (and SIS ids, sections) from the roster, for the submissions it knows."""
    if roster is None:
        return
    for item in items:
        person = roster.find(item.student, item.name)
        if person is not None:
            item.name = person.name
            item.lms = {**item.lms, "sis_user_id": person.sis_user_id, "section": person.section}


def remember(out: Path, assignment: str, roster: Roster | None, column: str | None, missing_as_zero: bool,
             results: list[dict] | None = None) -> None:
    remember_lms(out, assignment, roster, column, missing_as_zero)
    if results is not None:
        kept = [{k: r.get(k) for k in ("student", "name", "submission", "status", "message")}
                for r in results if r.get("not_graded")]
        write_json(settings_folder(out, assignment) / NOT_GRADED, kept)


def not_graded(out: Path, assignment: str) -> list[dict]:
    path = settings_folder(out, assignment) / NOT_GRADED
    return json.loads(path.read_text()) if path.exists() else []


def missing(out: Path, assignment: str, gradebook) -> list[dict]:
    results = gradebook.results(assignment)
    max_score = max((r.get("max_score") or 0 for r in results), default=0)
    return missing_results(results, load(settings_folder(out, assignment)), assignment, max_score)


def refresh(out: Path, assignment: str, gradebook) -> list[Path]:
    """Every export and the report, from the gradebook; the report's page comes last."""
    from autograder.exports import export_all
    from autograder.report import report

    stored = gradebook.results(assignment)
    written = export_all(out, assignment, stored)[:2] + export_lms(out, assignment, stored)
    written.append(report(out, assignment, stored, not_graded(out, assignment), missing(out, assignment, gradebook)))
    return written


def refresh_student(out: Path, assignment: str, result: dict) -> None:
    """A student's feedback files again, from their stored result (an override shown)."""
    from autograder.feedback_files import render
    from autograder.record import write_feedback

    write_feedback(out, assignment, result["student"], render(result))


def summary_lines(results: list[dict], ignored: list[str], missing_students: list[dict]) -> list[str]:
    """The batch's summary: counts, then each student not graded, missing or timed out, by name."""
    from autograder.report import summary

    s = summary([{**r, "final_score": r.get("score", 0.0)} for r in results if r["status"] != "error"])
    errors = sum(r["status"] == "error" for r in results)
    lines = [f"{s['graded']} graded, {s['invalid']} invalid, {errors} errors, {s['timeouts']} with a timeout, "
             f"{len(missing_students)} missing; mean score {s['mean']:.2f}, median {s['median']:.2f} of "
             f"{s['max_score']:g}"]

    def who(r: dict) -> str:
        name = r.get("name") or r["student"]
        return printable(name if name == r["student"] else f"{name} ({r['student']})")

    lines += [f"  {who(r)}: {printable(r['message'])}" for r in results if r.get("not_graded")]
    lines += [f"  {who(r)}: timed out in "
              + ", ".join(sorted({c['exercise'] for c in r['checks'] if c.get('outcome') == 'timeout'}))
              for r in results if any(c.get("outcome") == "timeout" for c in r.get("checks", []))]
    lines += [f"  {who(r)}: missing (handed in nothing)" for r in missing_students]
    lines += [f"  ignored: {printable(text)}" for text in ignored]
    return lines


def printable(text: str) -> str:
    """Control characters escaped, so that a student id or a message stays on its line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def human_line(result: dict) -> str:
    """One line for a TA's terminal, from a result's JSON form."""
    status = result["status"]
    head = f"{result['score']:g}/{result['max_score']:g}" if status == "graded" else status.upper()
    reused = " (unchanged, not regraded)" if result.get("reused") else ""
    return f"{printable(result['student'])}: {head} — {printable(result['message'])}{reused}"


def json_line(result: dict) -> str:
    """A result's JSON form on one line (``grade --json``)."""
    # json.dumps escapes every control character below U+0020 but not these three, at which
    # Python's str.splitlines (and some JSON-lines readers) also break a line.
    text = json.dumps(result, ensure_ascii=False, allow_nan=False)
    return text.replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
