"""Recording results: one JSON file per student per assignment, written atomically.

Layout under the output directory::

    gradebook.sqlite                       every result, committed as soon as it exists
    results/<assignment>/<student>.json    the grade (the result's JSON form, see autograder.result)
    feedback/<assignment>/<student>.{txt,html,json}   what the student reads
    logs/<assignment>/<student>.log        the notebook's output and cell errors: instructors only

``<student>`` is :func:`autograder.files.safe_name` of the id. Storage only: what the files
say is rendered by the caller (:mod:`autograder.outputs.feedback`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from autograder.files import safe_name, write_json, write_text
from autograder.gradebook import Gradebook
from autograder.result import Result


def feedback_path(out_dir: Path, assignment: str, student: str, suffix: str) -> Path:
    # Not with_suffix: it would turn "jane.doe" and "jane.roe" both into "jane.html".
    return out_dir / "feedback" / assignment / f"{safe_name(student)}{suffix}"


def write_feedback(out_dir: Path, assignment: str, student: str, files: dict[str, str]) -> None:
    """``files``: suffix -> text (see :func:`autograder.outputs.feedback.render`)."""
    for suffix, text in files.items():
        write_text(feedback_path(out_dir, assignment, student, suffix), text)


class ResultStore:
    """Writes a result's files, then commits it to the gradebook (the commit means "done").

    The files under ``results/`` and ``feedback/`` are always those of the *counted*
    result (:func:`autograder.gradebook.counts`); a result that does not count is stored in
    the gradebook's history only."""

    def __init__(self, out_dir: Path, gradebook_path: Path | None = None):
        self.out_dir = out_dir
        self.gradebook = Gradebook(gradebook_path or out_dir / "gradebook.sqlite")
        self._batch: int | None = None
        self.kept: list = []   # (result, the counted result it did not replace) of the batch

    def begin_batch(self, assignment: str, sources: list[str]) -> None:
        """Results saved from now on belong to a new batch (made when the first one is saved)."""
        self._batch, self._pending = None, (assignment, list(sources))

    def previous(self, assignment: str, student: str) -> Result | None:
        """The newest grading of the student (counted or not), for reuse."""
        found = self.gradebook.latest(student, assignment)
        return Result.from_json(found) if found else None

    def counted(self, assignment: str, student: str) -> dict | None:
        return self.gradebook.get(student, assignment)

    def save(self, result: Result, render: Callable[[], dict[str, str]], log: str | None,
             replace: bool = False) -> tuple[bool, dict | None]:
        """Store ``result``; when it counts (decided by the gradebook as it stores it), its files
        first: the feedback ``render`` makes (suffix -> text), the log (None: keep the one there)
        and the result. Returns whether it counts, and the result that counted before."""
        data = result.to_json()

        def write_files(_before: dict | None) -> None:
            write_feedback(self.out_dir, result.assignment, result.student, render())
            if log is not None:  # the log may hold hidden inputs a student printed: the instructor's only
                write_text(self.out_dir / "logs" / result.assignment / f"{safe_name(result.student)}.log", log,
                           mode=0o600)
            write_json(self.out_dir / "results" / result.assignment / f"{safe_name(result.student)}.json", data)

        if self._batch is None:
            assignment, sources = getattr(self, "_pending", (result.assignment, []))
            self._batch = self.gradebook.begin_batch(assignment, sources)
        return self.gradebook.record(data, self._batch, replace, on_count=write_files)

    def latest_counts(self, assignment: str, student: str) -> bool:
        return self.gradebook.latest_counts(student, assignment)

    def restore_files(self, assignment: str, student: str, result: dict | None, feedback: dict[str, str]) -> None:
        """The student's result and feedback files again, from their counted result (none: removed)."""
        path = self.out_dir / "results" / assignment / f"{safe_name(student)}.json"
        if result is None:
            for suffix in (".txt", ".html", ".json"):
                feedback_path(self.out_dir, assignment, student, suffix).unlink(missing_ok=True)
            path.unlink(missing_ok=True)
            return
        write_feedback(self.out_dir, assignment, student, feedback)
        write_json(path, {k: v for k, v in result.items() if k not in ("override", "final_score")})
