"""Recording results: one JSON file per student per assignment, written atomically.

Layout under the output directory::

    gradebook.sqlite                       every result, committed as soon as it exists
    results/<assignment>/<student>.json    the grade (the CLI's JSON object plus versions)
    feedback/<assignment>/<student>.{txt,html,json}   what the student reads
    logs/<assignment>/<student>.log        the notebook's output and cell errors: instructors only

A result is reused (no re-run) when the submission's content, the assignment
version and the grader version are unchanged, unless the caller forces it.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from autograder.reference import atomic_write_json


def safe_name(student: str) -> str:
    """A file name for a student id: no separators, no dot-files, bounded length."""
    name = re.sub(r"[^\w.@+-]", "_", student, flags=re.UNICODE).strip(".") or "_"
    return name[:120]


class ResultStore:
    """Writes a result's files, then commits it to the gradebook (the commit means "done")."""

    def __init__(self, out_dir: Path, gradebook_path: Path | None = None):
        from autograder.gradebook import Gradebook

        self.out_dir = out_dir
        self.gradebook = Gradebook(gradebook_path or out_dir / "gradebook.sqlite")

    def _path(self, kind: str, assignment: str, student: str, suffix: str) -> Path:
        return self.out_dir / kind / assignment / f"{safe_name(student)}{suffix}"

    def previous(self, assignment: str, student: str) -> dict | None:
        return self.gradebook.get(student, assignment)

    def save(self, result: dict, feedback: str, log: str) -> Path:
        from autograder.exports import write_feedback

        assignment, student = result["assignment"], result["student"]
        self._write_text(self._path("feedback", assignment, student, ".txt"), feedback)
        write_feedback(self.out_dir, result)
        self._write_text(self._path("logs", assignment, student, ".log"), log)
        path = self._path("results", assignment, student, ".json")
        atomic_write_json(path, result)
        self.gradebook.record(result)  # last: a committed row means every file above exists
        return path

    @staticmethod
    def _write_text(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
