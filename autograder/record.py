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

import hashlib
import re
from pathlib import Path

from autograder.files import write_json, write_text

# Ids kept as they are: word characters and .@+- only, not starting with a dot or a dash
# (no separators, dot-files, `..` or option-like names), at most 120 bytes of UTF-8.
_SAFE = re.compile(r"[\w@+][\w.@+-]*")


def safe_name(student: str) -> str:
    """A file name for a student id, one-to-one: two ids never share a name.

    A safe id is its own name. Any other id gets a readable part and ``~`` with a hash of
    the whole id; safe ids never contain ``~``, so they cannot collide with these.
    """
    if _SAFE.fullmatch(student) and len(student.encode("utf-8")) <= 120:
        return student
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    readable = re.sub(r"[^\w.@+-]", "_", student).lstrip(".-")
    readable = readable.encode("utf-8", "ignore")[:80].decode("utf-8", "ignore")
    return f"{readable or '_'}~{digest}"


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
        write_text(self._path("feedback", assignment, student, ".txt"), feedback)
        write_feedback(self.out_dir, result)
        # The log may hold hidden inputs a student printed: the instructor's only.
        write_text(self._path("logs", assignment, student, ".log"), log, mode=0o600)
        path = self._path("results", assignment, student, ".json")
        write_json(path, result)
        self.gradebook.record(result)  # last: a committed row means every file above exists
        return path
