"""A batch's LMS context, remembered beside its outputs: the roster and its names for the
students, the gradebook column, and what a batch could not grade (kept for the report).

Stored in the LMS settings folder of :mod:`autograder.lms.exports`; ``grade`` writes it,
``report`` and ``override`` read it back, so every refresh names students the same way.
"""

from __future__ import annotations

import json
from pathlib import Path

from autograder.errors import UsageError
from autograder.files import write_json
from autograder.lms.exports import remember as remember_lms
from autograder.lms.exports import settings_folder
from autograder.lms.roster import Roster, load
from autograder.lms.roster import read_roster as _read_roster

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
            item.lms = {**item.lms, "sis_user_id": person.sis_user_id, "sis_login_id": person.sis_login_id,
                        "section": person.section}


def canvas_people(roster: Roster | None) -> dict[str, str] | None:
    """A Canvas roster's user ids and their names as Canvas writes them in its downloads."""
    from autograder.lms.intake import canvas_name_part

    if roster is None or roster.kind != "canvas":
        return None
    return {p.id: canvas_name_part(p.name) for p in roster.people}


def check_lms(roster: Roster | None, assignment: str, column: str | None) -> None:
    """Before grading: refuse (UsageError) an LMS column the exports could not write truthfully."""
    from autograder.lms.exports import canvas_column

    if roster is not None and roster.kind == "canvas":
        canvas_column(roster, assignment, column)
    elif column is not None and (roster is None or roster.kind != "canvas"):
        raise UsageError("--lms-column names a Canvas gradebook column: give the Canvas gradebook export as "
                         "--roster too (it says the students' ids and the column's points)")


def remember(out: Path, assignment: str, roster: Roster | None, column: str | None, missing_as_zero: bool,
             results: list[dict] | None = None) -> None:
    remember_lms(out, assignment, roster, column, missing_as_zero)
    if results is not None:  # what the gradebook does not hold: superseded attempts, claims of one id
        kept = [{k: r.get(k) for k in ("student", "name", "submission", "status", "message")}
                for r in results if r.get("not_graded")
                and (r["status"] == "error" or r["message"].startswith("not graded: superseded by"))]
        write_json(settings_folder(out, assignment) / NOT_GRADED, kept)


def not_graded(out: Path, assignment: str) -> list[dict]:
    path = settings_folder(out, assignment) / NOT_GRADED
    return json.loads(path.read_text()) if path.exists() else []


def saved_roster(out: Path, assignment: str) -> Roster | None:
    return load(settings_folder(out, assignment))


def saved_column(out: Path, assignment: str) -> str | None:
    from autograder.lms.exports import settings

    return settings(out, assignment).get("column")
