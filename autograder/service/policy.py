"""The course's policies in the submission service: ``course.toml``'s (the batch's one parser,
:func:`autograder.assignments.course_toml.course_policies`) for each assignment, applied with
:func:`autograder.policies.counting.count` to a student's uploads. Read-only over the stored
results: nothing here writes a score.

One source per value:

* **due date**: ``course.toml``'s when it names one for the assignment (the staff page then
  refuses to set another); otherwise the staff page's (``Assignment.due``, read in the course's
  ``time_zone``). :func:`sync` copies ``course.toml``'s into ``Assignment.due``, so the pages and
  the "no more uploads" rule read the same instant.
* **hidden results**: ``course.toml``'s ``hidden_results``, when given, is copied into
  ``Assignment.hidden_results`` at :func:`sync` (``never`` is "when staff publish them").
* **rate limit**: ``course.toml``'s ``rate_limit``, when given, wins over
  ``AUTOGRADER_RATE_PER_HOUR``, and counts the uploads to that assignment only.
* **submission time**: the upload's ``Submission.created``.

Late days are spent as the batch spends them: across the course's assignments in due order
(earliest first, then by name), each assignment's counting submission first.
:func:`gradebook_results` gives the exports each student's result as the batch's refresh does
(``policy`` and ``final_score``). Telling the LMS after a change is
:mod:`autograder.service.lti_services`'s (``student_changed``, ``resend_all``).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from autograder.errors import UsageError
from autograder.policies.counting import Counted, Submitted, choose, count
from autograder.policies.model import Counts, CoursePolicies, Due, HiddenResults, Policy, PolicyError
from autograder.policies.model import Extension as Granted
from autograder.service.models import Assignment, Extension, PolicyState, Submission
from autograder.service.results import counted

log = logging.getLogger("autograder.service")

SOURCE = "the upload time"
_CACHE: dict[str, tuple] = {}


def _read() -> tuple[CoursePolicies, dict]:
    """course.toml's policies and its raw tables, parsed again only when the file's bytes changed."""
    from autograder.assignments.course_toml import FILE, course_policies, load

    path = settings.COURSE_ROOT / FILE
    try:
        key = hashlib.sha256(path.read_bytes()).hexdigest()   # small; a timestamp can miss a quick edit
    except FileNotFoundError:
        key = None
    if _CACHE.get("key", ("unset",))[0] != key:
        try:
            _CACHE["key"] = (key, course_policies(settings.COURSE_ROOT), load(settings.COURSE_ROOT))
            _CACHE.pop("error", None)
        except UsageError as exc:   # PolicyError, or TOML that cannot be read
            if "key" not in _CACHE:
                raise                # nothing applied yet in this process: nothing to fall back on
            _CACHE["error"] = (key, str(exc))
            log.error("course.toml changed and cannot be read; the policies read before still apply: %s", exc)
            _CACHE["key"] = (key, *_CACHE["key"][1:])
    return _CACHE["key"][1], _CACHE["key"][2]


def policy_error() -> str:
    """Why course.toml, edited while the service runs, cannot be read ("" when it can): the staff
    dashboard shows it; the policies read before it still apply."""
    try:
        _read()
    except UsageError as exc:
        return str(exc)
    return _CACHE.get("error", (None, ""))[1]


def course_policies() -> CoursePolicies:
    return _read()[0]


def toml_due(name: str) -> bool:
    """Whether course.toml names this assignment's due date (then it is the only source)."""
    raw = _read()[1]
    own = ((raw.get("assignments") or {}).get(name) or {}).get("policy") or {}
    return "due" in own or "due" in (raw.get("policy") or {})


def _toml_hidden(name: str) -> bool:
    raw = _read()[1]
    own = ((raw.get("assignments") or {}).get(name) or {}).get("policy") or {}
    return "hidden_results" in own or "hidden_results" in (raw.get("policy") or {})


def policy_of(assignment: Assignment, policies: CoursePolicies | None = None) -> Policy:
    """The policy an assignment's counted scores obey now: course.toml's, its due date the staff
    page's when course.toml names none."""
    policies = policies or course_policies()
    policy = policies.of(assignment.name)
    if policy.due is None and assignment.due is not None:
        policy = replace(policy, due=Due(assignment.due, policy.zone))
    return policy


_HIDDEN = {HiddenResults.ALWAYS: Assignment.Hidden.AT_ONCE, HiddenResults.AFTER_DUE: Assignment.Hidden.AFTER_DUE,
           HiddenResults.NEVER: Assignment.Hidden.WHEN_PUBLISHED}


def sync() -> bool:
    """course.toml's due dates and hidden-results choices copied into the assignments' rows; when
    the policies changed since the service last applied them, every counted score is sent to the
    LMS again (the caller: :func:`autograder.service.course.sync`). A bad course.toml raises :class:`PolicyError` (``serve`` stops on it). Returns
    whether the policies changed."""
    error = policy_error()
    if error:
        raise PolicyError(error)
    policies = course_policies()
    for a in Assignment.objects.all():
        policy, fields = policies.of(a.name), {}
        if toml_due(a.name) and policy.due is not None and a.due != policy.due.at:
            fields["due"] = policy.due.at
        if _toml_hidden(a.name) and a.hidden_results != _HIDDEN[policy.hidden_results]:
            fields["hidden_results"] = _HIDDEN[policy.hidden_results]
        if fields:
            Assignment.objects.filter(pk=a.pk).update(**fields)
            log.info("%s: from course.toml: %s", a.name, ", ".join(fields))
    digest = hashlib.sha256(repr(policies).encode()).hexdigest()
    with transaction.atomic():
        state, created = PolicyState.objects.select_for_update().get_or_create(key="course",
                                                                               defaults={"digest": digest})
        changed = not created and state.digest != digest
        if changed:
            PolicyState.objects.filter(pk=state.pk).update(digest=digest)
    return changed


# --- extensions -------------------------------------------------------------------------------

def active_extension(assignment: Assignment, student) -> Granted | None:
    """The student's extension that applies (the newest grant not revoked), as counting reads it."""
    row = Extension.objects.filter(assignment=assignment, student=student, revoked__isnull=True).first()
    if row is None:
        return None
    return Granted(student.username, assignment.name, row.until, row.reason, row.created.isoformat(), row.pk)


def student_due(assignment: Assignment, student):
    """The due instant that applies to ``student``: their extension's when it is later than the
    assignment's (as counting applies it), else the assignment's (None: no due date)."""
    granted = active_extension(assignment, student)
    if assignment.due is not None and granted is not None and granted.until > assignment.due:
        return granted.until
    return assignment.due


def hidden_shown_for(assignment: Assignment, student) -> bool:
    """Whether ``student`` sees the hidden checks' results of ``assignment`` now: at once, when
    staff published them, or (after the due date) once *their* due date has passed, so an
    extension never shows them while the student may still upload."""
    if assignment.hidden_results != Assignment.Hidden.AFTER_DUE or assignment.published:
        return assignment.hidden_shown()
    return assignment.hidden_shown(student_due(assignment, student))


def uploads_closed(assignment: Assignment, student) -> bool:
    """No upload once the student's hidden results are shown because their due date passed
    (after-the-due-date assignments): a later upload would see them at once."""
    if assignment.hidden_results != Assignment.Hidden.AFTER_DUE:
        return False
    due = student_due(assignment, student)
    return due is not None and timezone.now() >= due


def parse_until(assignment: Assignment, text: str) -> Due:
    """A staff form's date (the forms of docs/policies.md, in the course's time zone)."""
    from autograder.policies.model import parse_time

    return parse_time(text, policy_of(assignment).zone, "until")


@dataclass(frozen=True)
class Granting:
    row: Extension
    note: str    # what the page says besides "granted"


def grant(assignment: Assignment, student, until_text: str, reason: str, by) -> Granting:
    """A new grant (history kept). Refused (:class:`PolicyError`): a blank reason, a date that
    cannot be read, or one not after the due date."""
    if not reason.strip():
        raise PolicyError("an extension needs its reason (a doctor's note, an agreed delay...)")
    until = parse_until(assignment, until_text)
    policy = policy_of(assignment)
    note = ""
    if policy.due is None:
        note = "this assignment has no due date: the extension sets none by itself, and applies once one is set"
    elif until.at <= policy.due.at:
        raise PolicyError(f"until {until.local()} is not after the due date, {policy.due.local()}")
    row = Extension.objects.create(assignment=assignment, student=student, until=until.at, reason=reason.strip()[:2000],
                                   by=by)
    log.info("%s: %s granted %s an extension until %s", assignment.name, getattr(by, "username", "?"),
             student.username, until.local())
    return Granting(row, note)


def revoke(assignment: Assignment, student, reason: str, by) -> int:
    """Every grant of the student still applying marked revoked (kept, with who and why); how many."""
    if not reason.strip():
        raise PolicyError("revoking an extension needs its reason")
    n = Extension.objects.filter(assignment=assignment, student=student, revoked__isnull=True).update(
        revoked=timezone.now(), revoked_by=by, revoke_reason=reason.strip()[:2000])
    if n:
        log.info("%s: %s revoked %s's extension", assignment.name, getattr(by, "username", "?"), student.username)
    return n


# --- counting ---------------------------------------------------------------------------------

def counting(assignment: Assignment, student, mine: list[Submission] | None = None
             ) -> tuple[Submission | None, Counted | None]:
    """The submission that counts for ``student`` on ``assignment`` under its policy, and its
    counted record (None for no graded submission, or a result that is not graded: the policies
    apply to graded work only). ``mine``: the student's submissions of it, when already read."""
    policies = course_policies()
    policy = policy_of(assignment, policies)
    left = policies.course.late_days.days
    if left and policy.due is not None:
        dated = [(a, p) for a in Assignment.objects.exclude(pk=assignment.pk)
                 for p in [policy_of(a, policies)] if p.due is not None]
        for a, p in sorted(dated, key=lambda ap: (ap[1].due.at, ap[0].name)):
            if (p.due.at, a.name) >= (policy.due.at, assignment.name):
                break
            _, record = _choose(a, p, student, left)
            if record is not None:
                left -= record.late_days_used
    if mine is None:
        mine = list(assignment.submissions.filter(student=student).defer("log"))
    return _choose(assignment, policy, student, left, mine)


def _choose(assignment: Assignment, policy: Policy, student, left: int, mine: list[Submission] | None = None
            ) -> tuple[Submission | None, Counted | None]:
    if mine is None:
        mine = list(assignment.submissions.filter(student=student).defer("log"))
    latest = counted(mine)
    if latest is None or latest.result.get("status") != "graded":
        return latest, None
    candidates = [latest]
    if policy.counts is not Counts.LATEST:
        candidates = [s for s in sorted(mine, key=lambda s: s.created) if s.state == Submission.State.GRADED
                      and s.result and s.result.get("status") == "graded"] or [latest]
    extension = active_extension(assignment, student)
    scored = [(s, count(float(s.score or 0.0), float(s.max_score or 0.0), Submitted(s.created, source=SOURCE),
                        policy, extension, left)) for s in candidates]
    return scored[choose(scored, policy.counts)]


def as_result(sub: Submission, record: Counted | None) -> dict:
    """The stored result as the batch's outputs read it: ``policy`` and ``final_score`` (no override)."""
    out = dict(sub.result)
    if record is not None:
        out["policy"] = record.to_json()
        out["final_score"] = record.score
    else:
        out["final_score"] = out.get("score", 0.0)
    return out


def gradebook_results(assignment) -> list[dict]:
    """Each student's counted result of ``assignment`` as the gradebook gives it to every export
    (:meth:`autograder.gradebook.Gradebook.results`): the submission that counts under the
    assignment's policy, its ``policy`` record (:mod:`autograder.service.policy`), the override
    and ``final_score`` (the counted score, or the override's), the name from the roster."""
    from autograder.gradebook import with_override

    overrides = {o.student_id: o.as_gradebook() for o in assignment.overrides.all()}
    mine: dict[int, list[Submission]] = {}
    for sub in assignment.submissions.select_related("student", "student__profile").defer("log"):
        mine.setdefault(sub.student_id, []).append(sub)
    out = []
    for subs in mine.values():
        student = subs[0].student
        best, record = counting(assignment, student, subs)
        if best is None:
            continue
        profile = getattr(student, "profile", None)
        result = dict(as_result(best, record), student=student.username,
                      name=getattr(profile, "display_name", "") or student.username)
        override = overrides.get(best.student_id)
        out.append(with_override(result, override) if override else result)
    return sorted(out, key=lambda r: r["student"])


# --- rate limit -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rate:
    submissions: int
    per: timedelta
    assignment_only: bool      # the policy's (this assignment's uploads), or the setting's (all uploads)

    def words(self) -> str:
        from autograder.policies.model import _span

        where = " to this assignment" if self.assignment_only else ""
        per = "an hour" if self.per == timedelta(hours=1) else f"per {_span(self.per)}"
        return f"{self.submissions} submissions{where} {per}"

    def reached(self) -> str:
        """The refusal's first words: "You have submitted 5 times in the last hour"."""
        from autograder.policies.model import _span

        where = " to this assignment" if self.assignment_only else ""
        span = "hour" if self.per == timedelta(hours=1) else _span(self.per)
        return f"You have submitted {self.submissions} times{where} in the last {span}"


def rate_of(assignment: Assignment) -> Rate:
    limit = policy_of(assignment).rate_limit
    if limit is not None:
        return Rate(limit.submissions, limit.per, True)
    return Rate(settings.RATE_PER_HOUR, timedelta(hours=1), False)


def over_rate(assignment: Assignment, student) -> bool:
    rate = rate_of(assignment)
    recent = Submission.objects.filter(student=student, created__gte=timezone.now() - rate.per)
    if rate.assignment_only:
        recent = recent.filter(assignment=assignment)
    return recent.count() >= rate.submissions
