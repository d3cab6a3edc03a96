"""The counted score of one student on one assignment: the one value every place that credits a
student reads (the LMS gradebook through AGS first). Stored results are never rewritten: the
submission that counts under the assignment's policy, its counted score by the course's
policies (due date, the student's extension, late days, the late rule:
:func:`autograder.service.policy.counting`, which calls :func:`autograder.policies.counting.count`),
then the instructor's override (:func:`autograder.gradebook.with_override`), which wins."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from autograder.policies.counting import Counted


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
    automatic: float | None = None    # the counting submission's stored score (never changed)
    policy: Counted | None = None     # what the policies did (None: no graded work to apply them to)
    submission: object = None         # the Submission that counts, or None

    @property
    def deduction(self) -> float:
        """Points the late policy took (0 under an override: its score is what counts)."""
        return 0.0 if self.overridden or self.policy is None else self.policy.deduction

    @property
    def late(self) -> bool:
        return self.policy is not None and self.policy.late

    @property
    def explanation(self) -> str:
        """What the policies did, in plain words ("" when nothing)."""
        return "" if self.policy is None else self.policy.explanation


def counted_score(assignment, student) -> CountedScore:
    """What ``student`` is credited with on ``assignment`` now."""
    from autograder.gradebook import with_override
    from autograder.service.models import Override, Submission
    from autograder.service.policy import counting

    mine = list(assignment.submissions.filter(student=student).defer("log"))
    best, record = counting(assignment, student, mine)
    override = Override.objects.filter(assignment=assignment, student=student).first()
    if best is None:
        busy = any(s.state in (Submission.State.QUEUED, Submission.State.RUNNING) for s in mine)
        failed = any(s.state == Submission.State.FAILED for s in mine)
        progress = Progress.GRADING if busy else Progress.FAILED if failed else Progress.NOTHING
        if override is None:
            return CountedScore(None, None, progress)
        return CountedScore(override.score, _assignment_max(assignment), Progress.GRADED, True, override.reason)
    final = with_override(best.result, override.as_gradebook() if override else None)
    score = final["final_score"] if override is not None or record is None else record.score
    return CountedScore(float(score), float(best.max_score or final.get("max_score") or 0),
                        Progress.GRADED, override is not None, override.reason if override else "", best.finished,
                        automatic=float(best.score or 0.0), policy=record, submission=best)


def withheld(assignment, student, score: CountedScore) -> bool:
    """Whether ``score`` must not reach anyone the student can ask (the LMS gradebook) yet: it
    counts hidden checks' points the student may not see now
    (:func:`autograder.service.policy.hidden_shown_for`, by their own due date). An override is
    never withheld: the student's pages show it."""
    from autograder.service.policy import hidden_shown_for

    if score.score is None or score.overridden or score.submission is None:
        return False
    if not any(c.get("hidden") for c in (score.submission.result or {}).get("checks", [])):
        return False
    return not hidden_shown_for(assignment, student)


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
