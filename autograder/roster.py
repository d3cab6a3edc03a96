"""The LMS's own list of students (``--roster``): names, sections, SIS ids, who handed in nothing.

Read as the LMS writes them (the dialect is sniffed: commas or semicolons, a BOM):

* **Canvas**, the gradebook export: ``Student, ID, SIS User ID, SIS Login ID, Section``,
  then one column per assignment (``Lab 1 (123456)``); a ``Points Possible`` row is skipped.
  The id is the Canvas user id, as in its submission downloads.
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

    def by_id(self) -> dict[str, Person]:
        return {p.id: p for p in self.people}

    def find(self, student: str, name: str) -> Person | None:
        """The person a submission is, by id (by full name for a participants table)."""
        if self.kind == "moodle-participants":
            return next((p for p in self.people if p.name.casefold() == name.casefold()), None)
        return self.by_id().get(student)

    def assignment_column(self, assignment: str) -> str | None:
        """A Canvas gradebook's column for this assignment (its header names it), if exactly one."""
        if self.kind != "canvas":
            return None
        found = [c for c in self.columns[5:] if assignment.casefold() in c.casefold()]
        return found[0] if len(found) == 1 else None


def _rows(path: Path) -> tuple[list[str], list[dict]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--roster {path}: cannot read it as UTF-8 text ({exc})") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    rows = [row for row in reader if any((v or "").strip() for v in row.values())]
    return [c.strip() for c in reader.fieldnames or []], [{k.strip(): (v or "").strip() for k, v in row.items()
                                                          if k is not None} for row in rows]


def read_roster(path: Path) -> Roster:
    columns, rows = _rows(path)
    if {"Student", "ID"} <= set(columns):
        people = [Person(r["ID"], r["Student"], r.get("SIS User ID", ""), r.get("SIS Login ID", ""),
                         r.get("Section", "")) for r in rows
                  if r["ID"].isdigit() and not r["Student"].startswith("Points Possible")]
        return Roster("canvas", people, columns, rows)
    if {"Identifier", "Full name"} <= set(columns):
        people = [Person(r["Identifier"].rsplit(" ", 1)[-1], r["Full name"], email=r.get("Email address", ""))
                  for r in rows if r["Identifier"].rsplit(" ", 1)[-1].isdigit()]
        return Roster("moodle-worksheet", people, columns, rows)
    if {"First name", "Last name"} <= set(columns):
        people = [Person("", f"{r['First name']} {r['Last name']}", email=r.get("Email address", ""),
                         sis_user_id=r.get("ID number", "")) for r in rows]
        return Roster("moodle-participants", people, columns, rows)
    raise UsageError(f"--roster {path}: not a roster this grader reads (a Canvas gradebook export with "
                     "Student and ID columns, or a Moodle grading worksheet with Identifier and Full name)")


def save(roster: Roster, folder: Path) -> None:
    from autograder.files import write_json

    write_json(folder / SAVED, {"kind": roster.kind, "columns": roster.columns, "rows": roster.rows,
                                "people": [asdict(p) for p in roster.people]})


def load(folder: Path) -> Roster | None:
    path = folder / SAVED
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return Roster(data["kind"], [Person(**p) for p in data["people"]], data["columns"], data["rows"])
