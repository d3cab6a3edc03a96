"""The counted score of one student on one assignment: the one value every place that credits a
student reads (the LMS gradebook through AGS first). Stored results are never rewritten: the
counted submission (:func:`autograder.service.results.counted`) and the instructor's override
(:func:`autograder.gradebook.with_override`) give it; the course's policies (due dates, late
penalties, extensions) plug in here."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Progress(enum.Enum):
    """Where a student's work stands, in AGS's words (activityProgress, gradingProgress)."""

    NOTHING = ("Initialized", "NotReady")
    GRADING = ("Submitted", "Pending")
    FAILED = ("Submitted", "Failed")
    GRADED = ("Completed", "FullyGraded")

    @property
    def activity(self) -> str:
        return self.value[0]

    @property
    def grading(self) -> str:
        return self.value[1]


@dataclass(frozen=True)
class CountedScore:
    score: float | None          # None: nothing to credit yet (no graded submission, no override)
    max_score: float | None
    progress: Progress
    overridden: bool = False
    reason: str = ""             # the override's reason (what the student is told), or ""
    graded_at: datetime | None = None


def counted_score(assignment, student) -> CountedScore:
    """What ``student`` is credited with on ``assignment`` now."""
    from autograder.gradebook import with_override
    from autograder.service.models import Override, Submission
    from autograder.service.results import counted

    mine = list(assignment.submissions.filter(student=student).defer("log"))
    best = counted(mine)
    override = Override.objects.filter(assignment=assignment, student=student).first()
    if best is None:
        busy = any(s.state in (Submission.State.QUEUED, Submission.State.RUNNING) for s in mine)
        failed = any(s.state == Submission.State.FAILED for s in mine)
        progress = Progress.GRADING if busy else Progress.FAILED if failed else Progress.NOTHING
        if override is None:
            return CountedScore(None, None, progress)
        return CountedScore(override.score, _assignment_max(assignment), Progress.GRADED, True, override.reason)
    final = with_override(best.result, override.as_gradebook() if override else None)
    return CountedScore(float(final["final_score"]), float(best.max_score or final.get("max_score") or 0),
                        Progress.GRADED, override is not None, override.reason if override else "", best.finished)


_MAX: dict[tuple[str, str], float] = {}


def _assignment_max(assignment) -> float | None:
    """The assignment's maximum: its checks' points, public and hidden (from the course folder)."""
    from django.conf import settings

    from autograder.assignments.course import find_assignment

    try:
        a = find_assignment(assignment.name, settings.COURSE_ROOT)
        key = (a.name, a.version)
        if key not in _MAX:
            _MAX[key] = a.checkset(hidden=True).max_score()
        return _MAX[key]
    except Exception:  # noqa: BLE001 - an assignment gone from the folder: no maximum to name
        return None


assignment_max = _assignment_max
