"""Grades and feedback back to the LMS, in files it imports as they are.

Only the files of the LMS in use are written, and a file that would mislead is not
written at all: an import file needs the LMS's own list of students (``--roster``), which
says the ids, the column and the scale.

* ``exports/<assignment>-canvas.csv`` (with a Canvas gradebook export as the roster):
  Canvas' gradebook import, exactly ``Student, ID, SIS User ID, SIS Login ID, Section,
  <column>``, where ``<column>`` is the roster's column of this assignment (its header
  holds the assignment's name, or ``--lms-column`` names it); any other column would make
  Canvas create a new assignment, so it is refused (:func:`canvas_column`). The score is
  the counted one (overrides applied), scaled to the column's ``Points Possible`` when the
  export has that row; blank, never 0, for an invalid or missing submission without an
  override (0 for a missing one with ``--missing-as-zero``). Anonymous submissions have
  no user id to import under: they are left out, and said so.
* ``exports/<assignment>-moodle.csv`` (with Moodle's grading worksheet as the roster): the
  worksheet filled in row by row, each grade scaled to the row's ``Maximum Grade``
  (moodle/moodle, ``mod/assign/feedback/offline``: the upload takes ``Grade`` as it is).
* ``exports/<assignment>-feedback.zip``: every student's feedback page, laid out for the
  LMS's bulk upload: Moodle's feedback-files zip mirrors the download's folder names
  (``<Full Name>_<id>_assignsubmission_file_/feedback.html``); Canvas' "upload submission
  comments" reads the first two numbers of a name as the user id and an attachment id of
  the submission (instructure/canvas-lms, ``app/models/assignment.rb``,
  ``infer_comment_context_from_filename``), so each page is named
  ``<name>[_LATE]_<user id>_<attachment id>_feedback.html``; other layouts a folder per student.

What the commands were told (the roster, the column, ``--missing-as-zero``) is kept in
``exports/<assignment>-lms/``, so ``report`` and ``override`` refresh these files alone.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

from autograder.errors import UsageError
from autograder.outputs.tables import csv_text
from autograder.files import safe_name, write_json, write_text
from autograder.lms.roster import Roster, load, save

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def settings_folder(out: Path, assignment: str) -> Path:
    return out / "exports" / f"{assignment}-lms"


def remember(out: Path, assignment: str, roster: Roster | None, column: str | None,
             missing_as_zero: bool | None) -> None:
    """What a command was told, for the next ones: a new roster forgets the old one's column;
    ``missing_as_zero`` None keeps what was said before."""
    folder = settings_folder(out, assignment)
    saved = settings(out, assignment)
    write_json(folder / "settings.json", {
        "column": column or (None if roster is not None else saved.get("column")),
        "missing_as_zero": saved.get("missing_as_zero", False) if missing_as_zero is None else missing_as_zero})
    if roster is not None:
        save(roster, folder)


def settings(out: Path, assignment: str) -> dict:
    path = settings_folder(out, assignment) / "settings.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _score(result: dict, missing_as_zero: bool, scale: float | None = None) -> str:
    """The counted score as the LMS takes it: scaled to its points when ``scale`` is given."""
    if result["status"] == "graded" or result.get("override"):
        score = result["final_score"]
    elif result["status"] == "missing" and missing_as_zero:
        score = 0.0
    else:
        return ""
    if scale is not None and result.get("max_score"):
        score = score * scale / result["max_score"]
    return f"{round(score, 2):g}"


def canvas_column(roster: Roster, assignment: str, column: str | None) -> str:
    """The roster's grade column for this assignment; anything else is refused (a new column
    would make Canvas create a new assignment)."""
    columns = roster.assignment_columns()
    listed = "; ".join(repr(c) for c in columns) or "none"
    if column is not None:
        if column not in columns:
            raise UsageError(f"--lms-column {column!r} is not a column of the Canvas roster (Canvas would import "
                             f"it as a new assignment); its assignment columns: {listed}")
        return column
    found = roster.assignment_column(assignment)
    if found is None:
        raise UsageError(f"the Canvas roster has no single column named like {assignment}; name the assignment's "
                         f"column with --lms-column (its assignment columns: {listed})")
    return found


def canvas_csv(results: list[dict], assignment: str, roster: Roster, column: str | None,
               missing_as_zero: bool) -> tuple[str, list[str]]:
    """The import file's text, and what it had to leave out."""
    column = canvas_column(roster, assignment, column)
    points = roster.points_possible(column)
    people = roster.by_id()
    rows, left_out = [], []
    for r in results:
        lms = r.get("lms") or {}
        uid = str(lms.get("user_id") or (r["student"] if r["student"] in people else ""))
        person = people.get(uid)
        if person is None:
            left_out.append(r.get("name") or r["student"])
            continue
        rows.append([person.name, uid, person.sis_user_id, person.sis_login_id, person.section,
                     _score(r, missing_as_zero, points)])
    notes = [f"{assignment}-canvas.csv leaves out {len(left_out)} submission(s) with no Canvas user id in the "
             f"roster ({', '.join(left_out[:5])}{', ...' if len(left_out) > 5 else ''}): anonymous ones, or not "
             "Canvas's"] if left_out else []
    return csv_text(CANVAS_COLUMNS + [column], rows), notes


def _comment(result: dict) -> str:
    if result["status"] != "graded" and not result.get("override"):
        return result.get("message", "")
    lost = sorted({c["exercise"] for c in result.get("checks", []) if not c.get("passed")})
    text = f"{result['final_score']:g}/{result.get('max_score') or 0:g}"
    if result.get("override"):
        text += f" (set by hand: {result['override'].get('reason', '')})"
    elif (result.get("policy") or {}).get("deduction"):
        text += f" (automatic {result.get('score', 0):g}; {result['policy']['explanation']})"
    if result["status"] != "graded":
        return text
    return text + (f"; to look at again: {', '.join(lost)}" if lost else "; every check passed")


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "."))
    except (ValueError, AttributeError):
        return None


def moodle_worksheet(results: list[dict], roster: Roster, missing_as_zero: bool) -> tuple[str, list[str]]:
    """Moodle's own worksheet filled in, each grade scaled to the row's Maximum Grade."""
    by_pid = {str((r.get("lms") or {}).get("participant") or r["student"]): r for r in results}
    rows, notes = [], []
    for row in roster.rows:
        pid = row.get("Identifier", "").rsplit(" ", 1)[-1]
        r = by_pid.get(pid)
        if r is not None:
            top = _number(row.get("Maximum Grade", ""))
            if top is None:
                notes.append(f"Participant {pid}: the worksheet's Maximum Grade {row.get('Maximum Grade')!r} is not "
                             "a number (a scale?): grade left blank")
                grade = ""
            else:
                grade = _score(r, missing_as_zero, top)
            row = {**row, "Grade": f"{float(grade):.2f}" if grade else "", "Feedback comments": _comment(r)}
        rows.append([row.get(c, "") for c in roster.columns])
    return csv_text(roster.columns, rows), notes


def _feedback_name(result: dict) -> str:
    lms = result.get("lms") or {}
    if lms.get("layout") == "moodle" and lms.get("folder"):
        return f"{lms['folder']}/feedback.html"
    if lms.get("layout") == "canvas" and lms.get("prefix"):
        if lms.get("attachment_id"):
            return f"{lms['prefix']}_{lms['attachment_id']}_feedback.html"
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


def missing_results(results: list[dict], roster: Roster | None, assignment: str, max_score: float,
                    claimed: set[str] = frozenset()) -> list[dict]:
    """A ``missing`` result for each roster student who handed in nothing. ``claimed``: ids of
    submissions that were not graded (two claiming one id): those students handed something in.
    Nobody is said to be missing when the results cannot be matched to the roster's ids at all
    (an anonymous Canvas download, or a layout without the LMS's ids)."""
    if roster is None or any((r.get("lms") or {}).get("anonymous_id") for r in results):
        return []
    handed = {r["student"] for r in results} | {str((r.get("lms") or {}).get("participant", "")) for r in results}
    handed |= set(claimed)
    names = {(r.get("name") or "").casefold() for r in results}
    ids = {p.id for p in roster.people if p.id}
    if ids and results and not handed & ids:
        return []
    out = []
    for p in roster.people:
        if (p.id and p.id in handed) or (not p.id and p.name.casefold() in names):
            continue
        out.append({"student": p.id or p.name, "name": p.name, "assignment": assignment, "status": "missing",
                    "score": 0.0, "final_score": 0.0, "max_score": max_score, "checks": [], "lms": {},
                    "message": "handed in nothing", "override": None})
    return out


_WHERE_TO_GET = {
    "canvas": "for a Canvas import file, export the Canvas gradebook (Grades > Export > CSV) and pass it as --roster",
    "moodle": "for Moodle's grading worksheet filled in, download it (the assignment's View all submissions > "
              "Grading action > Download grading worksheet) and pass it as --roster",
}


def export_lms(out: Path, assignment: str, results: list[dict], missing: list[dict]) -> tuple[list[Path], list[str]]:
    """The LMS files of the LMS in use, from the stored results, the students ``missing`` and what
    was remembered; and what to tell the instructor about them. An import file of another LMS
    left by an earlier command is removed: it no longer says what the gradebook does."""
    folder = settings_folder(out, assignment)
    roster, conf = load(folder), settings(out, assignment)
    everyone = results + missing
    zero = conf.get("missing_as_zero", False)
    written, notes = [feedback_zip(out, assignment, results)], []
    canvas, moodle = out / "exports" / f"{assignment}-canvas.csv", out / "exports" / f"{assignment}-moodle.csv"
    if roster is not None and roster.kind == "canvas":
        text, notes = canvas_csv(everyone, assignment, roster, conf.get("column"), zero)
        written.insert(0, write_text(canvas, text))
    elif roster is not None and roster.kind == "moodle-worksheet":
        text, notes = moodle_worksheet(everyone, roster, zero)
        written.insert(0, write_text(moodle, text))
    else:
        layouts = {(r.get("lms") or {}).get("layout") for r in results}
        notes = [f"no LMS import file written: {_WHERE_TO_GET[lms]}" for lms in ("canvas", "moodle") if lms in layouts]
    for stale in (canvas, moodle):
        if stale not in written:
            stale.unlink(missing_ok=True)
    return written, notes
