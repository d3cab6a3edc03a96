"""LTI Advantage services the service calls on the platform: Names and Role Provisioning (the
course's roster, without a CSV) and Assignment and Grade Services (each counted score posted to the
LMS gradebook with its progress).

Scores: :func:`grades_changed` is called wherever a student's counted score may change (a grading
stored, a regrade's result, an override set or cleared); it records a :class:`ScorePost` per LMS
link of the assignment and enqueues its sending on the grading queue, so grading never waits on
the LMS. The job sends the counted score *as it is when it runs*
(:func:`autograder.service.scores.counted_score`, with that moment's timestamp: AGS platforms keep
the score with the latest timestamp). A failure keeps its error on the row, is tried again later
(``RETRIES`` times, waiting longer each time), and staff see it and can send it again.

A counted score that includes hidden checks the student may not see yet is sent withheld
(``Submitted``/``Pending``, no score: :func:`score_payload`); it goes ``FullyGraded`` when they
become visible: staff publish (the publish view schedules the assignment), an extension or due
date changes (``student_changed``, ``resend_all``), or the student's due date passes
(:func:`release_withheld`, from each worker's periodic loop)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from autograder.service.lti_models import LtiLink, ScorePost

log = logging.getLogger("autograder.service")

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
RETRIES = 5
RETRY_BASE_S = 60


# --- Names and Role Provisioning --------------------------------------------------------------

def sync_roster(context) -> dict:
    """The context's members from the platform (NRPS), each with a service account (created or its
    role and name updated: :func:`autograder.service.lti_launch.account_for`). Nothing is deleted:
    a member the LMS lists as inactive or no longer lists keeps their account and submissions.
    Returns counts ``{"members", "created", "updated", "inactive", "no_role"}``."""
    from django.contrib.auth import get_user_model
    from lti_tool.models import LtiUser
    from lti_tool.services.nrps import fetch_member_data

    from autograder.service.lti_launch import Person, account_for, service_role

    members = [dict(m, status=m.get("status") or "Active") for m in fetch_member_data(context)
               if m.get("user_id")]
    counts = {"members": len(members), "created": 0, "updated": 0, "inactive": 0, "no_role": 0}
    User = get_user_model()
    with transaction.atomic():
        context.update_memberships(members)
        registration = context.deployment.registration
        for m in members:
            role = service_role(m.get("roles"))
            if m["status"] != "Active":
                counts["inactive"] += 1
                continue
            if role is None:
                counts["no_role"] += 1
                continue
            lti_user = LtiUser.objects.get(registration=registration, sub=m["user_id"])
            before = User.objects.count()
            account_for(lti_user, Person(str(m["user_id"]), m.get("name") or "", m.get("email") or "",
                                         str(m.get("lis_person_sourcedid") or "")), role)
            counts["created" if User.objects.count() > before else "updated"] += 1
    log.info("NRPS roster of %s: %s", context, counts)
    return counts


# --- Assignment and Grade Services ------------------------------------------------------------

def grades_changed(assignment_id: int, student_id: int) -> int:
    """Schedule the counted score of one student on one assignment to every LMS link of the
    assignment the student can be named on (an LMS user of that platform). Never raises: grading
    goes on whatever the LMS side does (a failure here is logged). Returns how many were scheduled."""
    try:
        return _schedule(assignment_id, student_id)
    except Exception:  # noqa: BLE001 - the passback never blocks grading; the log says what broke
        log.exception("LTI score passback for assignment %s, student %s: not scheduled", assignment_id, student_id)
        return 0


def _schedule(assignment_id: int, student_id: int) -> int:
    from lti_tool.models import LtiUser

    links = (LtiLink.objects.filter(assignment_id=assignment_id).exclude(lineitem_url="")
             .select_related("resource_link__context__deployment"))
    scheduled = 0
    for link in links:
        registration_id = link.resource_link.context.deployment.registration_id
        if not LtiUser.objects.filter(registration_id=registration_id, auth_user_id=student_id).exists():
            continue
        with transaction.atomic():
            post, created = ScorePost.objects.get_or_create(link=link, student_id=student_id)
            if not created:
                ScorePost.objects.filter(pk=post.pk).update(state=ScorePost.State.PENDING, changed=timezone.now(),
                                                            attempts=0)
            post_score.enqueue(post.pk)
        scheduled += 1
    return scheduled


def schedule_assignment(assignment) -> int:
    """Every student's counted score on ``assignment`` scheduled again (after a change that moves
    many: a regrade of the class, a policy)."""
    from lti_tool.models import LtiUser

    students = set(LtiUser.objects.filter(auth_user__isnull=False, registration__deployments__contexts__resource_links__service_link__assignment=assignment)
                   .values_list("auth_user_id", flat=True))
    return sum(grades_changed(assignment.pk, s) for s in students)


def resend_all() -> int:
    """Every assignment's counted scores scheduled to the LMS again (a due date or policy changed)."""
    from autograder.service.models import Assignment

    return sum(schedule_assignment(a) for a in Assignment.objects.all())


def student_changed(assignment, student) -> int:
    """After one student's counted score on one assignment may have moved (an extension): that
    score to the LMS, and with a late-day budget the student's other assignments too (the days
    are spent across them)."""
    from autograder.service.models import Assignment
    from autograder.service.policy import course_policies

    if course_policies().course.late_days.days:
        return sum(grades_changed(a.pk, student.pk) for a in Assignment.objects.all())
    return grades_changed(assignment.pk, student.pk)


def release_withheld() -> int:
    """Scores sent withheld (``Pending``, no score) whose student now sees the hidden results
    (the due date or their extension passed) scheduled again, to go ``FullyGraded``: called from
    each worker's periodic loop (:func:`autograder.service.grading.keep_alive`), so a due date
    passing needs no web request. A post already pending is left to its job. Returns how many."""
    from django.db.models import Q

    from autograder.service.models import Assignment
    from autograder.service.policy import hidden_shown_for
    from autograder.service.scores import Progress, counted_score

    # only where someone may see them now (an extension only moves a due date later): a beat
    # before the due date reads no student's row
    may_show = (Q(link__assignment__hidden_results=Assignment.Hidden.AT_ONCE) | Q(link__assignment__published=True)
                | Q(link__assignment__hidden_results=Assignment.Hidden.AFTER_DUE, link__assignment__due__lte=timezone.now()))
    released = 0
    with transaction.atomic():
        posts = (ScorePost.objects.select_for_update(skip_locked=True, of=("self",))
                 .filter(may_show, state=ScorePost.State.SENT, payload__gradingProgress=Progress.GRADING.grading)
                 .select_related("link__assignment", "student"))
        for post in posts:
            assignment = post.link.assignment
            if not hidden_shown_for(assignment, post.student):
                continue
            if counted_score(assignment, post.student).progress is not Progress.GRADED:
                continue   # still grading: its job sends the score when it is stored
            released += grades_changed(assignment.pk, post.student_id)
    return released


@task(queue_name="grading")
def post_score(post_id: int) -> str:
    """The passback job (on the workers' queue): one score sent now."""
    return send(post_id)


def score_payload(post: ScorePost, when=None) -> dict:
    """The AGS Score (AGS 2.0 §3.4: userId, scoreGiven, scoreMaximum, comment, timestamp,
    activityProgress, gradingProgress) of the counted score now. While it is withheld (it counts
    hidden checks the student may not see yet: :func:`autograder.service.scores.withheld`), only
    ``Submitted`` / ``Pending``, with no scoreGiven, scoreMaximum or comment: AGS's "Pending" is a
    grade not final yet that needs no grader (the tool finishes it by itself), where
    "PendingManual" would ask the LMS's graders to act (Canvas marks it "needs grading";
    canvas-lms app/controllers/lti/ims/scores_controller.rb also ignores a scoreGiven sent with
    Pending, so sending none hides nothing the LMS would have kept)."""
    from lti_tool.models import LtiUser

    from autograder.service.scores import Progress, counted_score, withheld

    registration_id = post.link.resource_link.context.deployment.registration_id
    lti_user = LtiUser.objects.filter(registration_id=registration_id, auth_user_id=post.student_id).first()
    if lti_user is None:
        raise LookupError(f"{post.student.username} is not a user of this LMS (no launch, no NRPS roster)")
    score = counted_score(post.link.assignment, post.student)
    progress = Progress.GRADING if withheld(post.link.assignment, post.student, score) else score.progress
    payload = {"userId": lti_user.sub, "timestamp": (when or timezone.now()).isoformat(timespec="milliseconds"),
               "activityProgress": progress.activity, "gradingProgress": progress.grading}
    if progress is Progress.GRADING:   # nothing more: no score, no words, until the student sees it all
        return payload
    if score.score is not None:
        if not score.max_score:
            raise ValueError(f"{post.link.assignment.name}: no maximum score is known, so no score is sent")
        payload.update(scoreGiven=float(score.score), scoreMaximum=float(score.max_score))
        if score.overridden and score.reason:
            payload["comment"] = f"Score set by the instructor: {score.reason}"[:1000]
        elif score.explanation:   # the policy's words (docs/policies.md): the lateness, late days, an extension
            payload["comment"] = (f"Late: {score.explanation}" if score.late else score.explanation)[:1000]
    return payload


def send(post_id: int) -> str:
    """Send one ScorePost's score now; records the outcome. Returns the new state."""
    from pylti1p3.assignments_grades import AssignmentsGradesService
    from pylti1p3.grade import Grade
    from pylti1p3.service_connector import ServiceConnector

    post = (ScorePost.objects.select_related("link__assignment", "student",
                                             "link__resource_link__context__deployment__registration")
            .filter(pk=post_id).first())
    if post is None:
        return "gone"
    attempts = post.attempts + 1
    payload = None
    try:
        payload = score_payload(post)
        grade = Grade().set_user_id(payload["userId"]).set_timestamp(payload["timestamp"]) \
            .set_activity_progress(payload["activityProgress"]).set_grading_progress(payload["gradingProgress"])
        if "scoreGiven" in payload:
            grade.set_score_given(payload["scoreGiven"]).set_score_maximum(payload["scoreMaximum"])
        if "comment" in payload:
            grade.set_comment(payload["comment"])
        registration = post.link.resource_link.context.deployment.registration
        scopes = post.link.ags_scopes.split() or [SCORE_SCOPE]
        ags = AssignmentsGradesService(ServiceConnector(registration.to_registration()),
                                       {"scope": scopes, "lineitem": post.link.lineitem_url})
        ags.put_grade(grade)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row, shown to staff, retried
        error = f"{type(exc).__name__}: {exc}"[:2000]
        ScorePost.objects.filter(pk=post.pk).update(state=ScorePost.State.FAILED, attempts=attempts, error=error,
                                                    payload=payload)
        log.warning("LTI score for %s on %s not sent (try %d): %s", post.student.username, post.link, attempts, error)
        if attempts < RETRIES:
            post_score.using(run_after=timezone.now() + timedelta(seconds=RETRY_BASE_S * 2 ** (attempts - 1))) \
                .enqueue(post.pk)
        return ScorePost.State.FAILED
    ScorePost.objects.filter(pk=post.pk).update(state=ScorePost.State.SENT, attempts=attempts, error="",
                                                payload=payload, sent=timezone.now())
    return ScorePost.State.SENT


def retry_failed() -> int:
    """Every failed score sent again (the staff button)."""
    ids = list(ScorePost.objects.filter(state=ScorePost.State.FAILED).values_list("pk", flat=True))
    with transaction.atomic():
        ScorePost.objects.filter(pk__in=ids).update(state=ScorePost.State.PENDING, attempts=0)
        for pk in ids:
            post_score.enqueue(pk)
    return len(ids)
