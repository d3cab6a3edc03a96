"""The counted score: one pure function from (automatic score, maximum, submission time, policy,
extension, late days left) to a :class:`Counted` record with the deduction and its words.

Rules, each tested (tests/test_policies.py):

* Exactly at the due time is on time; lateness is real elapsed time (both instants in UTC), so
  a due date across a daylight-saving change counts the hours that really passed.
* "Per started day": any part of a day counts as a day (1 second late is 1 day); an hour rule
  the same with hours. ``at_most`` periods are accepted; one more counts 0.
* A penalty is a percent of the maximum score (as Canvas's late policy takes it), never below 0.
* An extension replaces the due date when it is later (an earlier one changes nothing, and
  is not reported as applied); on an assignment with no due date it sets none.
* Late days (:func:`count_course`): spent automatically, in assignment due order, only where
  they raise the counted score (``none`` deducts nothing; ``no_late_work`` or ``at_most``
  still at 0 after the days, or an automatic 0, spend none: the days stay for later work);
  a late day covers one started day of lateness; what they do not cover is charged by the
  rule from the end of the days spent.
* No time: a submission whose source says nothing about when it was handed in is on time. One
  the LMS flagged late without a time (Canvas's ``_LATE``) is late by an unknown amount: it is
  charged the rule's first step (one started period), or uses one late day instead, and the
  words say so. An extension granted here waives such an unknown lateness (the flag is the
  LMS's, measured against its own due date).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Sequence, TypeVar

from autograder.policies.model import DAY, Counts, Due, Extension, LateKind, LateRule, Policy, _plural, _span

T = TypeVar("T")


@dataclass(frozen=True)
class Submitted:
    """When a submission was handed in, as far as its source says."""
    at: datetime | None = None   # aware; None: the source holds no time
    flagged_late: bool = False   # the LMS said "late" without saying by how much
    source: str = ""             # where the time (or the flag) came from, in words


@dataclass(frozen=True)
class Counted:
    """What a student is credited with for one submission, and why."""
    automatic: float             # the stored automatic score (never changed)
    max_score: float
    score: float                 # the counted score
    deduction: float             # automatic - score
    late: bool
    late_by: timedelta | None    # measured lateness (None: on time or not known)
    charged: int                 # started periods the rule charged
    late_days_used: int
    due: datetime | None         # the due instant that applied (an extension's when later)
    extension: Extension | None
    rule: str                    # the rule in words
    explanation: str             # plain words: what happened and what it cost ("" when nothing)

    def to_json(self) -> dict:
        """The record as exports, feedback and the gradebook's readers take it."""
        return {"score": self.score, "automatic": self.automatic, "deduction": round(self.deduction, 6),
                "late": self.late, "late_by_s": None if self.late_by is None else self.late_by.total_seconds(),
                "charged": self.charged, "late_days_used": self.late_days_used,
                "due": None if self.due is None else self.due.astimezone(timezone.utc).isoformat(),
                "extension": None if self.extension is None else {
                    "until": self.extension.until.astimezone(timezone.utc).isoformat(),
                    "reason": self.extension.reason},
                "rule": self.rule, "explanation": self.explanation}


def count(automatic: float, max_score: float, submitted: Submitted, policy: Policy,
          extension: Extension | None = None, late_days_left: int = 0) -> Counted:
    """The counted score of one submission under ``policy``; ``late_days_left``: the student's
    unspent budget (the caller spends them across assignments, :func:`count_course`)."""
    rule = policy.late
    due = policy.due.at if policy.due is not None else None
    if extension is not None and due is not None and _utc(extension.until) > _utc(due):
        due = extension.until
    else:                # no due date to move (an extension sets no deadline), or not later: not applied
        extension = None
    base = dict(automatic=automatic, max_score=max_score, due=due, extension=extension, rule=rule.words())
    if due is None:
        words = f"marked late by {submitted.source}; no due date is set here, so no penalty" \
            if submitted.flagged_late else ""
        return Counted(score=automatic, deduction=0.0, late=submitted.flagged_late, late_by=None, charged=0,
                       late_days_used=0, explanation=words, **base)
    if submitted.at is None:
        return _unknown(automatic, max_score, submitted, rule, policy, extension, late_days_left, base)
    late_by = _utc(submitted.at) - _utc(due)
    if late_by <= timedelta(0) or late_by <= rule.grace:
        grace = f" (within the {_span(rule.grace)} of grace)" if late_by > timedelta(0) else ""
        words = f"on time{grace}, with an extension until {_when(extension.until, policy)}: {extension.reason}" \
            if extension is not None and due == extension.until else (f"on time{grace}" if grace else "")
        return Counted(score=automatic, deduction=0.0, late=False, late_by=None, charged=0, late_days_used=0,
                       explanation=words, **base)
    spent = 0
    if rule.kind is not LateKind.NONE:
        spent = min(math.ceil(late_by / DAY), late_days_left, _cap(policy))
    if spent and _charge(automatic, max_score, rule, late_by - spent * DAY) <= _charge(automatic, max_score, rule,
                                                                                        late_by):
        spent = 0        # the days would change nothing (0 either way, or nothing to lose): kept for later
    left = late_by - spent * DAY
    said = f"submitted {_span(late_by)} late" + (f" (due {_when(due, policy)}, extension: {extension.reason})"
                                                  if extension is not None and due == extension.until else "")
    if spent:
        said += f"; {_plural(spent, 'late day')} used"
    if left <= timedelta(0):
        return Counted(score=automatic, deduction=0.0, late=True, late_by=late_by, charged=0, late_days_used=spent,
                       explanation=said + ": no penalty", **base)
    charged = math.ceil(left / rule.period)
    score, cost = _penalty(automatic, max_score, rule, charged)
    return Counted(score=score, deduction=automatic - score, late=True, late_by=late_by, charged=charged,
                   late_days_used=spent, explanation=f"{said}: {cost} ({rule.words()})", **base)


def _unknown(automatic, max_score, submitted, rule: LateRule, policy, extension, late_days_left, base) -> Counted:
    if not submitted.flagged_late:
        words = f"no submission time in {submitted.source or 'this source'}: the due date was not applied"
        return Counted(score=automatic, deduction=0.0, late=False, late_by=None, charged=0, late_days_used=0,
                       explanation=words, **base)
    said = f"marked late by {submitted.source}, which gives no submission time"
    if extension is not None:
        return Counted(score=automatic, deduction=0.0, late=False, late_by=None, charged=0, late_days_used=0,
                       explanation=f"{said}; counted on time: extension until {_when(extension.until, policy)} "
                                   f"({extension.reason})", **base)
    if rule.kind is not LateKind.NONE and min(late_days_left, _cap(policy)) >= 1 and \
            _penalty(automatic, max_score, rule, 1)[0] < automatic:
        return Counted(score=automatic, deduction=0.0, late=True, late_by=None, charged=0, late_days_used=1,
                       explanation=f"{said}: 1 late day used (late by an unknown amount): no penalty", **base)
    score, cost = _penalty(automatic, max_score, rule, 1)
    return Counted(score=score, deduction=automatic - score, late=True, late_by=None, charged=1, late_days_used=0,
                   explanation=f"{said}: late by an unknown amount, charged the rule's first step: {cost} "
                               f"({rule.words()})", **base)


def _penalty(automatic: float, max_score: float, rule: LateRule, charged: int) -> tuple[float, str]:
    """The score after ``charged`` started periods, and the cost in words."""
    if rule.kind is LateKind.NONE:
        return automatic, "no penalty"
    if rule.kind is LateKind.NO_LATE_WORK or (rule.at_most is not None and charged > rule.at_most):
        return 0.0, "counts 0"
    percent = rule.percent * charged
    score = max(0.0, automatic - max_score * percent / 100)
    return score, f"−{percent:g}%"


def _charge(automatic: float, max_score: float, rule: LateRule, late: timedelta) -> float:
    """The score after ``late`` of lateness not covered by late days."""
    return automatic if late <= timedelta(0) else _penalty(automatic, max_score, rule, math.ceil(late / rule.period))[0]


def _cap(policy: Policy) -> int:
    cap = policy.late_days.per_assignment
    return cap if cap is not None else policy.late_days.days


def _utc(when: datetime) -> datetime:
    return when.astimezone(timezone.utc)


def _when(when: datetime, policy: Policy) -> str:
    """An instant in words, in the zone the due date was given in."""
    return Due(when, policy.due.zone if policy.due is not None else policy.zone).local()


@dataclass(frozen=True)
class Entry:
    """One assignment's submission for :func:`count_course`: the policy it obeys and its facts."""
    assignment: str
    policy: Policy
    automatic: float
    max_score: float
    submitted: Submitted
    extension: Extension | None = None


def count_course(entries: Sequence[Entry], budget: int) -> dict[str, Counted]:
    """One student's assignments counted with one late-day budget, spent in due order (entries
    without a due date last, by name): an earlier assignment's lateness uses days first."""
    def order(e: Entry):
        return (0, _utc(e.policy.due.at), e.assignment) if e.policy.due is not None else (1, datetime.min, e.assignment)

    left, out = budget, {}
    for e in sorted(entries, key=order):
        counted = count(e.automatic, e.max_score, e.submitted, e.policy, e.extension, left)
        left -= counted.late_days_used
        out[e.assignment] = counted
    return out


def choose(candidates: Sequence[tuple[T, Counted]], rule: Counts) -> int:
    """Which of a student's submissions counts (an index into ``candidates``, oldest first):
    the latest; the best counted score (the latest of equals); or the latest on time (the latest
    of all when none was on time)."""
    if not candidates:
        raise ValueError("no submission to choose from")
    last = len(candidates) - 1
    if rule is Counts.BEST:
        return max(range(len(candidates)), key=lambda i: (candidates[i][1].score, i))
    if rule is Counts.LATEST_BEFORE_DUE:
        on_time = [i for i, (_, c) in enumerate(candidates) if not c.late]
        return on_time[-1] if on_time else last
    return last
