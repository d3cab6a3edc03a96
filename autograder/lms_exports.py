"""Grades and feedback back to the LMS, in files it imports as they are.

* ``exports/<assignment>-canvas.csv``: Canvas' gradebook import, exactly ``Student, ID,
  SIS User ID, SIS Login ID, Section, <column>``, where ``<column>`` is the Canvas
  assignment's own header (``--lms-column``, or the roster's column naming the
  assignment); any other column would make Canvas create a new assignment. The ID is the
  Canvas user id; the score is the final one (overrides applied); blank, never 0, for an
  invalid, failed or missing submission (0 for a missing one with ``--missing-as-zero``).
* ``exports/<assignment>-moodle.csv``: Moodle's grading worksheet (``Identifier`` =
  ``Participant <id>``, ``Full name``, ..., ``Grade``, ``Feedback comments``), filled in:
  the roster's own worksheet row by row when one was given, else one row per participant
  graded, ready for "Upload grading worksheet".
* ``exports/<assignment>-feedback.zip``: every student's feedback page, laid out for the
  LMS's bulk upload: Moodle's feedback-files zip mirrors the download's folder names
  (``<Full Name>_<id>_assignsubmission_file_/feedback.html``), Canvas' re-upload keeps each
  file's download prefix (``<name>_<user id>_<submission id>_feedback.html``), other
  layouts a folder per student.

What the commands were told (the roster, the column, ``--missing-as-zero``) is kept in
``exports/<assignment>-lms/``, so ``report`` and ``override`` refresh these files alone.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

from autograder.exports import csv_text
from autograder.files import safe_name, write_json, write_text
from autograder.roster import Roster, load, save

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                  "Grade can be changed", "Last modified (submission)", "Last modified (grade)", "Feedback comments"]


def settings_folder(out: Path, assignment: str) -> Path:
    return out / "exports" / f"{assignment}-lms"


def remember(out: Path, assignment: str, roster: Roster | None, column: str | None, missing_as_zero: bool) -> None:
    folder = settings_folder(out, assignment)
    saved = settings(out, assignment)
    write_json(folder / "settings.json", {"column": column or saved.get("column"),
                                          "missing_as_zero": missing_as_zero or saved.get("missing_as_zero", False)})
    if roster is not None:
        save(roster, folder)


def settings(out: Path, assignment: str) -> dict:
    path = settings_folder(out, assignment) / "settings.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _score(result: dict, missing_as_zero: bool) -> str:
    if result["status"] == "graded":
        return f"{result['final_score']:g}"
    if result["status"] == "missing" and missing_as_zero:
        return "0"
    return ""


def canvas_csv(results: list[dict], assignment: str, roster: Roster | None, column: str | None,
               missing_as_zero: bool) -> str:
    column = column or (roster.assignment_column(assignment) if roster else None) or assignment
    people = roster.by_id() if roster and roster.kind == "canvas" else {}
    rows = []
    for r in results:
        uid = str(r.get("lms", {}).get("user_id") or (r["student"] if r["student"] in people else ""))
        person = people.get(uid)
        rows.append([person.name if person else r.get("name") or r["student"], uid,
                     person.sis_user_id if person else "", person.sis_login_id if person else "",
                     person.section if person else "", _score(r, missing_as_zero)])
    return csv_text(CANVAS_COLUMNS + [column], rows)


def _comment(result: dict) -> str:
    if result["status"] != "graded":
        return result.get("message", "")
    lost = sorted({c["exercise"] for c in result.get("checks", []) if not c.get("passed")})
    text = f"{result['final_score']:g}/{result.get('max_score') or 0:g}"
    if result.get("override"):
        text += f" (set by hand: {result['override'].get('reason', '')})"
    return text + (f"; to look at again: {', '.join(lost)}" if lost else "; every check passed")


def moodle_worksheet(results: list[dict], roster: Roster | None, missing_as_zero: bool) -> str:
    by_pid = {str(r.get("lms", {}).get("participant") or r["student"]): r for r in results}
    if roster is not None and roster.kind == "moodle-worksheet":
        rows = []
        for row in roster.rows:
            pid = row.get("Identifier", "").rsplit(" ", 1)[-1]
            r = by_pid.get(pid)
            if r is not None:
                grade = _score(r, missing_as_zero)
                row = {**row, "Grade": f"{float(grade):.2f}" if grade else "", "Feedback comments": _comment(r)}
            rows.append([row.get(c, "") for c in roster.columns])
        return csv_text(roster.columns, rows)
    header = ["Identifier", "Full name", "Status", "Grade", "Maximum Grade", "Feedback comments"]
    rows = []
    for pid, r in by_pid.items():
        if r.get("lms", {}).get("layout") != "moodle" and r["status"] != "missing":
            continue
        grade = _score(r, missing_as_zero)
        rows.append([f"Participant {pid}", r.get("name") or r["student"], r["status"],
                     f"{float(grade):.2f}" if grade else "", f"{r.get('max_score') or 0:.2f}", _comment(r)])
    return csv_text(header, rows)


def _feedback_name(result: dict) -> str:
    lms = result.get("lms") or {}
    if lms.get("layout") == "moodle" and lms.get("folder"):
        return f"{lms['folder']}/feedback.html"
    if lms.get("layout") == "canvas" and lms.get("prefix"):
        return f"{lms['prefix']}_feedback.html"
    return f"{safe_name(result['student'])}/feedback.html"


def feedback_zip(out: Path, assignment: str, results: list[dict]) -> Path:
    """Every stored feedback page, named for the LMS's bulk upload; written atomically."""
    target = out / "exports" / f"{assignment}-feedback.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for r in results:
                page = out / "feedback" / assignment / f"{safe_name(r['student'])}.html"
                if page.exists():
                    archive.write(page, _feedback_name(r))
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    return target


def missing_results(results: list[dict], roster: Roster | None, assignment: str, max_score: float) -> list[dict]:
    """A ``missing`` result for each roster student who handed in nothing."""
    if roster is None:
        return []
    handed = {r["student"] for r in results} | {str(r.get("lms", {}).get("participant", "")) for r in results}
    names = {(r.get("name") or "").casefold() for r in results}
    out = []
    for p in roster.people:
        if (p.id and p.id in handed) or (not p.id and p.name.casefold() in names):
            continue
        out.append({"student": p.id or p.name, "name": p.name, "assignment": assignment, "status": "missing",
                    "score": 0.0, "final_score": 0.0, "max_score": max_score, "checks": [], "lms": {},
                    "message": "handed in nothing", "override": None})
    return out


def export_lms(out: Path, assignment: str, results: list[dict]) -> list[Path]:
    """The three LMS files, from the stored results and what was remembered."""
    folder = settings_folder(out, assignment)
    roster, conf = load(folder), settings(out, assignment)
    max_score = max((r.get("max_score") or 0 for r in results), default=0)
    everyone = results + missing_results(results, roster, assignment, max_score)
    zero = conf.get("missing_as_zero", False)
    return [
        write_text(out / "exports" / f"{assignment}-canvas.csv",
                   canvas_csv(everyone, assignment, roster, conf.get("column"), zero)),
        write_text(out / "exports" / f"{assignment}-moodle.csv", moodle_worksheet(everyone, roster, zero)),
        feedback_zip(out, assignment, results),
    ]
