"""The LMS's own list of students (``--roster``): names, sections, SIS ids, who handed in nothing.

Read as the LMS writes them (the dialect is sniffed: commas or semicolons, a BOM):

* **Canvas**, the gradebook export (instructure/canvas-lms, ``lib/gradebook_exporter.rb``):
  ``Student`` (or ``LastName, FirstName``), ``ID``, ``SIS User ID``, ``SIS Login ID``,
  ``Integration ID``, ``Root Account``, ``Section`` (the SIS ones only when exported with
  them), custom columns, then one column per assignment titled ``<title> (<assignment id>)``
  and the totals. A row of ``Manual Posting`` may follow the header, then the
  ``Points Possible`` row (kept: a grade is scaled to its column's points). The id is the
  Canvas user id, as in its submission downloads.
* **Moodle**, the assignment's grading worksheet: ``Identifier`` (``Participant 1001``),
  ``Full name``, ``Email address``... The id is the participant id, as in its downloads.
  Moodle's participants table (``First name``, ``Last name``, ``Email address``...) holds
  no participant id: its people are matched by full name.

The roster is kept beside the exports (:data:`SAVED`), so ``report`` and ``override``
refresh them without being given it again.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.errors import UsageError

SAVED = "roster.json"   # in OUT/exports/<assignment>-lms/


@dataclass
class Person:
    id: str
    name: str
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    email: str = ""


@dataclass
class Roster:
    kind: str                                     # canvas | moodle-worksheet | moodle-participants
    people: list[Person]
    columns: list[str] = field(default_factory=list)   # the file's header
    rows: list[dict] = field(default_factory=list)     # its rows (a worksheet is filled in as it is)
    points: dict[str, float] = field(default_factory=dict)  # Canvas: assignment column -> points possible

    def by_id(self) -> dict[str, Person]:
        return {p.id: p for p in self.people}

    def find(self, student: str, name: str) -> Person | None:
        """The person a submission is, by id (by full name for a participants table)."""
        if self.kind == "moodle-participants":
            return next((p for p in self.people if p.name.casefold() == name.casefold()), None)
        return self.by_id().get(student)

    def assignment_columns(self) -> list[str]:
        """A Canvas gradebook's assignment columns: titled ``<title> (<assignment id>)``."""
        return [c for c in self.columns if _CANVAS_ASSIGNMENT.search(c)] if self.kind == "canvas" else []

    def assignment_column(self, assignment: str) -> str | None:
        """A Canvas gradebook's column for this assignment (its header names it), if exactly one."""
        wanted = assignment.casefold()
        found = [c for c in self.assignment_columns() if wanted in c.casefold()]
        return found[0] if len(found) == 1 else None

    def points_possible(self, column: str) -> float | None:
        return self.points.get(column)


_CANVAS_ASSIGNMENT = re.compile(r"\(\d+\)$")


def _rows(path: Path) -> tuple[list[str], list[dict]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--roster {path}: cannot read it as UTF-8 text ({exc})") from None
    return _text_rows(text)


def _text_rows(text: str) -> tuple[list[str], list[dict]]:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    rows = [row for row in reader if any((v or "").strip() for v in row.values())]
    return [c.strip() for c in reader.fieldnames or []], [{k.strip(): (v or "").strip() for k, v in row.items()
                                                          if k is not None} for row in rows]


def read_roster(path: Path) -> Roster:
    return _roster(*_rows(path), f"--roster {path}")


def parse_roster(text: str, where: str) -> Roster:
    """The same from the file's text (an upload); ``where`` names it in an error."""
    return _roster(*_text_rows(text.lstrip("\ufeff")), where)


def _roster(columns: list[str], rows: list[dict], where: str) -> Roster:
    if "ID" in columns and ("Student" in columns or {"LastName", "FirstName"} <= set(columns)):
        return _canvas(columns, rows)
    if {"Identifier", "Full name"} <= set(columns):
        people = [Person(r["Identifier"].rsplit(" ", 1)[-1], r["Full name"], email=r.get("Email address", ""))
                  for r in rows if r["Identifier"].rsplit(" ", 1)[-1].isdigit()]
        return Roster("moodle-worksheet", people, columns, rows)
    if {"First name", "Last name"} <= set(columns):
        people = [Person("", f"{r['First name']} {r['Last name']}", email=r.get("Email address", ""),
                         sis_user_id=r.get("ID number", "")) for r in rows]
        return Roster("moodle-participants", people, columns, rows)
    raise UsageError(f"{where}: not a roster this grader reads (a Canvas gradebook export with "
                     "Student and ID columns, or a Moodle grading worksheet with Identifier and Full name)")


def _canvas(columns: list[str], rows: list[dict]) -> Roster:
    def name(r: dict) -> str:
        return r["Student"] if "Student" in r else f"{r.get('LastName', '')}, {r.get('FirstName', '')}"

    people, points = [], {}
    for r in rows:
        if name(r).strip().startswith("Points Possible"):
            points = {c: float(v) for c, v in r.items() if _CANVAS_ASSIGNMENT.search(c) and _is_number(v)}
        elif r["ID"].isdigit():
            people.append(Person(r["ID"], name(r), r.get("SIS User ID", ""), r.get("SIS Login ID", ""),
                                 r.get("Section", "")))
    return Roster("canvas", people, columns, rows, points)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def save(roster: Roster, folder: Path) -> None:
    from autograder.files import write_json

    write_json(folder / SAVED, {"kind": roster.kind, "columns": roster.columns, "rows": roster.rows,
                                "people": [asdict(p) for p in roster.people], "points": roster.points})


def load(folder: Path) -> Roster | None:
    path = folder / SAVED
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return Roster(data["kind"], [Person(**p) for p in data["people"]], data["columns"], data["rows"],
                  data.get("points", {}))
