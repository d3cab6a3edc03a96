"""Recording results: one JSON file per student per assignment, written atomically.

Layout under the output directory::

    gradebook.sqlite                       every result, committed as soon as it exists
    results/<assignment>/<student>.json    the grade (the result's JSON form, see autograder.result)
    feedback/<assignment>/<student>.{txt,html,json}   what the student reads
    logs/<assignment>/<student>.log        the notebook's output and cell errors: instructors only

``<student>`` is :func:`autograder.files.safe_name` of the id. Storage only: what the files
say is rendered by the caller (:mod:`autograder.feedback_files`).
"""

from __future__ import annotations

from pathlib import Path

from autograder.files import safe_name, write_json, write_text
from autograder.gradebook import Gradebook
from autograder.result import Result


def feedback_path(out_dir: Path, assignment: str, student: str, suffix: str) -> Path:
    # Not with_suffix: it would turn "jane.doe" and "jane.roe" both into "jane.html".
    return out_dir / "feedback" / assignment / f"{safe_name(student)}{suffix}"


def write_feedback(out_dir: Path, assignment: str, student: str, files: dict[str, str]) -> None:
    """``files``: suffix -> text (see :func:`autograder.feedback_files.render`)."""
    for suffix, text in files.items():
        write_text(feedback_path(out_dir, assignment, student, suffix), text)


class ResultStore:
    """Writes a result's files, then commits it to the gradebook (the commit means "done")."""

    def __init__(self, out_dir: Path, gradebook_path: Path | None = None):
        self.out_dir = out_dir
        self.gradebook = Gradebook(gradebook_path or out_dir / "gradebook.sqlite")

    def previous(self, assignment: str, student: str) -> Result | None:
        found = self.gradebook.get(student, assignment)
        return Result.from_json(found) if found else None

    def save(self, result: Result, feedback: dict[str, str], log: str) -> Path:
        data = result.to_json()
        write_feedback(self.out_dir, result.assignment, result.student, feedback)
        # The log may hold hidden inputs a student printed: the instructor's only.
        write_text(self.out_dir / "logs" / result.assignment / f"{safe_name(result.student)}.log", log, mode=0o600)
        path = self.out_dir / "results" / result.assignment / f"{safe_name(result.student)}.json"
        write_json(path, data)
        self.gradebook.record(data)  # last: a committed row means every file above exists
        return path
