"""The pages. Every view that shows a submission checks who asks: a student sees only their own
(anything else is a 404, as if it did not exist); staff see all. Templates are autoescaped."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Max, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from autograder.service import course, storage
from autograder.service.models import Assignment, Role, SignInLink, Submission, is_staff_member, role_of
from autograder.service.results import for_student
from autograder.service.grading import grade_submission

log = logging.getLogger("autograder.service")


def staff_required(view):
    def wrapped(request, *args, **kwargs):
        if not is_staff_member(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)
    return login_required(wrapped)


def _visible(request, submission_id) -> Submission:
    sub = get_object_or_404(Submission.objects.select_related("assignment", "student"), pk=submission_id)
    if sub.student_id != request.user.pk and not is_staff_member(request.user):
        raise Http404
    return sub


# --- signing in -------------------------------------------------------------------------------

@require_GET
def signin_help(request):
    return render(request, "service/signin_help.html")


@require_http_methods(["GET", "POST"])
def signin(request, token: str):
    """GET shows a button (a link preview or a mail scanner never uses the link up); POST signs in."""
    link = SignInLink.objects.select_related("user").filter(token_sha256=SignInLink.digest(token)).first()
    if link is None or not link.valid():
        return render(request, "service/signin_invalid.html", status=404)
    if request.method == "GET":
        return render(request, "service/signin.html", {"who": link.user})
    with transaction.atomic():
        used = SignInLink.objects.filter(pk=link.pk, used__isnull=True).update(used=timezone.now())
    if not used:
        return render(request, "service/signin_invalid.html", status=404)
    login(request, link.user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("service:home")


@require_POST
def signout(request):
    logout(request)
    return redirect("service:signin-help")


# --- students ---------------------------------------------------------------------------------

@login_required
@require_GET
def home(request):
    from autograder.service.policy import student_due
    from autograder.service.scores import counted_score

    rows = []
    for a in Assignment.objects.all():
        score = counted_score(a, request.user)
        best = score.submission
        rows.append({"assignment": a, "count": a.submissions.filter(student=request.user).count(), "counted": best,
                     "shown": _shown_score(best, a, request.user) if best else None, "score": score,
                     "due": student_due(a, request.user)})
    return render(request, "service/home.html", {"rows": rows, "staff": is_staff_member(request.user)})


def _shown_score(sub: Submission, assignment: Assignment, student) -> dict:
    from autograder.service.policy import hidden_shown_for

    r = for_student(sub.result, hidden_shown_for(assignment, student))
    return {"score": r.get("score"), "max_score": r.get("max_score"), "partial": r is not sub.result}


@login_required
@require_GET
def assignment(request, name: str):
    a = get_object_or_404(Assignment, name=name)
    return _assignment_page(request, a)


def _assignment_page(request, a: Assignment, error: str = "", status: int = 200):
    from autograder.service.policy import hidden_shown_for, rate_of, student_due, uploads_closed
    from autograder.service.scores import counted_score

    mine = list(a.submissions.filter(student=request.user).defer("log"))
    score = counted_score(a, request.user)
    shown = hidden_shown_for(a, request.user)   # by this student's own due date (an extension's)
    for sub in mine:   # the score the student may see now (the public checks' until hidden ones are shown)
        sub.shown = _shown_score(sub, a, request.user) if sub.state == Submission.State.GRADED and sub.result else None
    return render(request, "service/assignment.html", {
        "a": a, "submissions": mine, "counted": score.submission, "error": error,
        "max_mb": settings.MAX_UPLOAD_BYTES / 2**20, "rate": rate_of(a).words(),
        "hidden_shown": shown, "past_due": uploads_closed(a, request.user), "score": score,
        "score_visible": shown, "own_due": student_due(a, request.user)}, status=status)


@login_required
@require_POST
def submit(request, name: str):
    from autograder.service.policy import uploads_closed

    a = get_object_or_404(Assignment, name=name)
    if not a.open:
        return _assignment_page(request, a, "This assignment is closed: no more submissions.", 403)
    if uploads_closed(a, request.user):   # their hidden results are shown now: a later upload would see them
        return _assignment_page(request, a, "The due date has passed, and the hidden checks' results are shown: "
                                            "no more submissions. Nothing was stored.", 403)
    upload = request.FILES.get("notebook")   # parsed here (or by the CSRF check): the size handler has run
    if getattr(request, "upload_too_large", False):
        return _assignment_page(request, a, f"The file is over the {settings.MAX_UPLOAD_BYTES / 2**20:g} MB "
                                            "limit: clear the notebook's outputs (Edit > Clear outputs), save, "
                                            "and upload it again. Nothing was stored.", 413)
    if upload is None:
        return _assignment_page(request, a, "Choose a notebook file (.ipynb) to upload.", 400)
    if not upload.name.lower().endswith(".ipynb"):
        return _assignment_page(request, a, f"“{upload.name}” is not a notebook: upload the .ipynb file you "
                                            "worked in. Nothing was stored.", 400)
    if _over_rate(a, request.user):   # checked again, student locked, where the row is recorded
        return _rate_limited(request, a)
    spooled = storage.spool(upload.chunks(), settings.MAX_UPLOAD_BYTES)
    if spooled is None:
        return _assignment_page(request, a, f"The file is over the {settings.MAX_UPLOAD_BYTES / 2**20:g} MB "
                                            "limit. Nothing was stored.", 413)
    tmp, sha256, size = spooled
    problem = _not_a_notebook(tmp)
    if problem:
        storage.discard(tmp)
        return _assignment_page(request, a, f"“{upload.name}” could not be read as a notebook: {problem}. "
                                            "Nothing was stored.", 400)
    storage.keep(tmp, sha256)   # stored, whole, before the student is told it was received
    sub = _record(a, request.user, Path(upload.name).name[:255], size, sha256)
    if sub is None:
        return _rate_limited(request, a)
    return redirect("service:submission", submission_id=sub.pk)


def _over_rate(a: Assignment, student) -> bool:
    """The course policy's rate limit when it gives one, else AUTOGRADER_RATE_PER_HOUR (service.policy)."""
    from autograder.service.policy import over_rate

    return over_rate(a, student)


def _rate_limited(request, a: Assignment):
    from autograder.service.policy import rate_of

    return _assignment_page(request, a, f"{rate_of(a).reached()}, the limit: run the checks in your notebook, and "
                                        "submit again later. Nothing was stored.", 429)


def _not_a_notebook(path: Path) -> str:
    from autograder.errors import InvalidSubmission
    from autograder.notebooks.reading import read_notebook

    try:
        read_notebook(path)
    except InvalidSubmission as exc:
        return str(exc)
    return ""


def _record(a: Assignment, student, filename: str, size: int, sha256: str) -> Submission | None:
    """The submission's row and its job, in one transaction; an identical earlier submission that
    was graded on this version of the assignment gives its result at once. None (no row) when the
    student is over the rate limit: counted with the student's row locked, so parallel uploads
    are counted one after the other (SQLite's IMMEDIATE transactions are serialised anyway)."""
    from django.contrib.auth import get_user_model

    version = course.version(a.name)
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=student.pk).first()
        if _over_rate(a, student):
            return None
        same = (Submission.objects.filter(assignment=a, student=student, sha256=sha256, state=Submission.State.GRADED)
                .exclude(result=None).defer("log").order_by("-created").first())
        if same is not None and version and same.result.get("assignment_version") == version:
            now = timezone.now()
            return Submission.objects.create(
                assignment=a, student=student, filename=filename, size=size, sha256=sha256,
                state=Submission.State.GRADED, created=now, started=now, finished=now, worker="reused",
                reused_from=same.reused_from or same, result=dict(same.result, submission=filename),
                score=same.score, max_score=same.max_score)
        sub = Submission.objects.create(assignment=a, student=student, filename=filename, size=size, sha256=sha256)
        grade_submission.enqueue(str(sub.pk))
    return sub


@login_required
@require_GET
def submission(request, submission_id):
    sub = _visible(request, submission_id)
    return render(request, "service/submission.html", _state_context(request, sub))


@login_required
@require_GET
def submission_state(request, submission_id):
    sub = _visible(request, submission_id)
    return render(request, "service/_state.html", _state_context(request, sub))


def _state_context(request, sub: Submission) -> dict:
    from autograder.service.scores import counted_score

    shown, score = None, None
    if sub.state == Submission.State.GRADED:   # the score is shown then only (the page polls the other states)
        shown = for_student(sub.result, _hidden_shown(request, sub))
        score = counted_score(sub.assignment, sub.student)
    ahead = (Submission.objects.filter(state=Submission.State.QUEUED, created__lt=sub.created).count()
             if sub.state == Submission.State.QUEUED else 0)
    return {"sub": sub, "shown": shown, "ahead": ahead, "poll_after": poll_after(ahead),
            "is_counted": score is not None and score.submission == sub, "staff": is_staff_member(request.user), "title": TITLES[sub.state], "score": score,
            "score_visible": shown is sub.result}


def poll_after(ahead: int) -> int:
    """Seconds the submission page waits before asking for its state again: 1 while it runs or is
    next, longer the further back in the queue it is (at most 5; the queue moves a few a second, so
    it is polled each second again before its turn). A class's burst polls that much less."""
    return min(5, 1 + ahead // 10)


def _hidden_shown(request, sub: Submission) -> bool:
    """Staff see every check; the submission's student, the hidden ones once *they* may
    (:func:`autograder.service.policy.hidden_shown_for`: their own due date)."""
    from autograder.service.policy import hidden_shown_for

    return is_staff_member(request.user) or hidden_shown_for(sub.assignment, sub.student)


TITLES = {Submission.State.QUEUED: "Submission received: queued", Submission.State.RUNNING: "Submission running",
          Submission.State.GRADED: "Submission graded", Submission.State.FAILED: "Grading failed"}


@login_required
@require_GET
def feedback(request, submission_id):
    """The feedback page, by the batch's renderer (autograder.outputs.feedback)."""
    from autograder.outputs.feedback import feedback_html

    sub = _visible(request, submission_id)
    if sub.state != Submission.State.GRADED or not sub.result:
        raise Http404
    shown = for_student(sub.result, _hidden_shown(request, sub))
    name = sub.assignment.title or sub.assignment.name
    back = ([(reverse("service:staff-assignment", args=[sub.assignment.name]), f"← {name} (staff)")]
            if sub.student_id != request.user.pk else
            [(reverse("service:assignment", args=[sub.assignment.name]), f"← {name}: your submissions")])
    back.append((reverse("service:submission", args=[sub.pk]), "This submission"))
    return HttpResponse(feedback_html(_with_policy(sub, shown), back), content_type="text/html; charset=utf-8")


def _with_policy(sub: Submission, shown: dict) -> dict:
    """The result the feedback page renders: for the submission that counts, what the course's
    policies did (the deduction and its words) and the override; the automatic score stays."""
    from autograder.service.scores import counted_score

    score = counted_score(sub.assignment, sub.student)
    if score.submission != sub:
        return shown
    out = dict(shown, override={"score": score.score, "reason": score.reason} if score.overridden else None)
    if score.policy is not None and shown is sub.result:
        out.update(policy=score.policy.to_json(), final_score=score.score)
    elif score.policy is not None:   # hidden checks not shown yet: the words, not the full score's sums
        out.update(policy={"explanation": score.explanation}, final_score=shown.get("score"))
    return out


# --- staff ------------------------------------------------------------------------------------

@staff_required
@require_GET
def dashboard(request):
    rows = Assignment.objects.annotate(
        total=Count("submissions"),
        queued=Count("submissions", filter=Q(submissions__state=Submission.State.QUEUED)),
        running=Count("submissions", filter=Q(submissions__state=Submission.State.RUNNING)),
        failed=Count("submissions", filter=Q(submissions__state=Submission.State.FAILED)))
    from autograder.service.models import WorkerBeat

    from autograder.service.policy import policy_error

    alive = WorkerBeat.objects.filter(last_seen__gte=timezone.now() - timedelta(seconds=60))
    return render(request, "service/dashboard.html", {"rows": rows, "workers": alive,
                                                      "instructor": role_of(request.user) == Role.INSTRUCTOR,
                                                      "policy_error": policy_error()})


@staff_required
@require_GET
def staff_assignment(request, name: str):
    a = get_object_or_404(Assignment, name=name)
    regraded = request.GET.get("regraded", "")
    return _staff_page(request, a, notice=f"{int(regraded)} counted submissions queued to be graded again."
                       if re.fullmatch(r"\d{1,6}", regraded, re.ASCII) else "")


def _staff_page(request, a: Assignment, error: str = "", notice: str = "", status: int = 200):
    from django.contrib.auth import get_user_model

    from autograder.gradebook import with_override
    from autograder.service.policy import counting, policy_of, toml_due
    from autograder.service.results import pass_rates

    students = (get_user_model().objects.filter(Q(profile__role=Role.STUDENT) | Q(submissions__assignment=a))
                .distinct().order_by("username").select_related("profile"))
    subs: dict[int, list] = {}
    for s in a.submissions.defer("log"):   # logs (up to 200k characters each) are not shown here
        subs.setdefault(s.student_id, []).append(s)
    overrides = {o.student_id: o for o in a.overrides.all()}
    extensions = {}
    for e in a.extensions.filter(revoked__isnull=True):   # newest first: the one that applies
        extensions.setdefault(e.student_id, e)
    roster, results = [], []
    for user in students:
        mine = subs.get(user.pk, [])
        best, record = counting(a, user, mine)
        override = overrides.get(user.pk)
        final = None
        if best is not None:
            results.append(best.result)
            final = with_override(best.result, override.as_gradebook() if override else None)["final_score"]
            if override is None and record is not None:
                final = record.score
        elif override is not None:
            final = override.score
        roster.append({"user": user, "name": getattr(getattr(user, "profile", None), "display_name", ""),
                       "count": len(mine), "last": max((s.created for s in mine), default=None), "counted": best,
                       "override": override, "final": final, "policy": record,
                       "extension": extensions.get(user.pk)})
    states = dict(a.submissions.values_list("state").annotate(n=Count("pk")))
    recent = a.submissions.select_related("student").defer("log")[:50]
    return render(request, "service/staff_assignment.html", {
        "a": a, "roster": roster, "states": states, "recent": recent, "rates": pass_rates(results),
        "last_any": a.submissions.aggregate(m=Max("created"))["m"], "error": error, "notice": notice,
        "instructor": role_of(request.user) == Role.INSTRUCTOR, "lms": _lms_context(a),
        "dask": settings.DASK_ADDRESS, "policy": policy_of(a), "toml_due": toml_due(a.name),
        "grants": a.extensions.select_related("student", "by", "revoked_by")[:200]}, status=status)


def _lms_context(a: Assignment) -> dict | None:
    """The assignment's LMS roster and its import file's name and notes, for the staff page."""
    from autograder.errors import UsageError
    from autograder.service import lms
    from autograder.service.models import LmsRoster

    kept = LmsRoster.objects.filter(assignment=a).first()
    if kept is None:
        return None
    try:
        filename, _, notes = lms.export(a)
    except UsageError as exc:   # not expected: the file was checked when it was uploaded
        filename, notes = "", [str(exc)]
    return {"roster": kept, "kind": lms.KINDS.get(kept.kind, kept.kind), "filename": filename,
            "download": filename.rsplit("-", 1)[-1] if filename else "", "notes": notes,
            "people": kept.members.count()}


def _instructor(request) -> None:
    if role_of(request.user) != Role.INSTRUCTOR:
        raise PermissionDenied


@staff_required
@require_POST
def publish(request, name: str):
    """Publish (or withdraw) the hidden checks' results of an assignment: instructors only."""
    from autograder.service.lti_services import schedule_assignment

    _instructor(request)
    a = get_object_or_404(Assignment, name=name)
    a.published = request.POST.get("published") == "1"
    a.save(update_fields=["published"])
    # the LMS follows what students see: the counted scores now (FullyGraded), or withheld again
    schedule_assignment(a)
    return redirect("service:staff-assignment", name=a.name)


@staff_required
@require_POST
def regrade(request, name: str):
    """Every counted submission of the assignment graded again, on the same queue: instructors only."""
    from autograder.service.grading import regrade_counted

    _instructor(request)
    a = get_object_or_404(Assignment, name=name)
    on_dask = request.POST.get("on") == "dask"
    if on_dask and not settings.DASK_ADDRESS:
        return _staff_page(request, a, error="No Dask cluster is set for the service (AUTOGRADER_DASK): nothing "
                                             "was queued.", status=400)
    queued = regrade_counted(a, on_dask=on_dask)
    log.info("%s: %s queued %d counted submissions again%s", a.name, request.user.username, len(queued),
             " on Dask" if on_dask else "")
    return redirect(reverse("service:staff-assignment", kwargs={"name": a.name}) + f"?regraded={len(queued)}")


@staff_required
@require_POST
def override(request, name: str):
    """Set (a score and a reason) or clear (no score) a student's override: instructors only."""
    from django.contrib.auth import get_user_model

    from autograder.service.lti_services import grades_changed
    from autograder.service.models import Override

    _instructor(request)
    a = get_object_or_404(Assignment, name=name)
    student = get_user_model().objects.filter(username=request.POST.get("student", "")).first()
    if student is None:
        return _staff_page(request, a, error="No such student.", status=400)
    text, reason = request.POST.get("score", "").strip(), request.POST.get("reason", "").strip()
    if not text:
        Override.objects.filter(assignment=a, student=student).delete()
        log.info("%s: %s cleared the override of %s", a.name, request.user.username, student.username)
        grades_changed(a.pk, student.pk)
        return redirect("service:staff-assignment", name=a.name)
    try:
        score = float(text)
    except ValueError:
        score = float("nan")
    if not (score == score and 0 <= score <= 10_000):
        return _staff_page(request, a, error=f"“{text}” is not a score (a number, 0 or more).", status=400)
    if not reason:
        return _staff_page(request, a, error="An override needs its reason (students' appeals, late policy...).",
                           status=400)
    Override.objects.update_or_create(assignment=a, student=student,
                                      defaults={"score": score, "reason": reason[:2000], "by": request.user,
                                                "created": timezone.now()})
    log.info("%s: %s set %s's score to %g", a.name, request.user.username, student.username, score)
    grades_changed(a.pk, student.pk)   # the LMS gradebook (LTI AGS)
    return redirect("service:staff-assignment", name=a.name)


EXPORTS = {"grades.csv": "text/csv; charset=utf-8", "checks.csv": "text/csv; charset=utf-8",
           "feedback.zip": "application/zip"}


@staff_required
@require_GET
def export(request, name: str, kind: str):
    """The exports of the counted results (overrides applied) as downloads: the grades and checks
    CSVs of ``autograder grade`` (autograder.outputs.tables) and the feedback zip
    (autograder.lms.exports.feedback_zip, each page by the batch's renderer). Staff only."""
    import tempfile

    from autograder.lms.exports import feedback_zip
    from autograder.outputs.feedback import render
    from autograder.outputs.result_files import write_feedback
    from autograder.outputs.tables import checks_csv, grades_csv
    from autograder.service.policy import gradebook_results

    a = get_object_or_404(Assignment, name=name)
    if kind not in EXPORTS:
        raise Http404
    results = gradebook_results(a)
    if kind == "grades.csv":
        body: bytes = grades_csv(results, a.name).encode()
    elif kind == "checks.csv":
        body = checks_csv(results).encode()
    else:
        with tempfile.TemporaryDirectory(prefix="autograder-export-") as out:
            for r in results:
                write_feedback(Path(out), a.name, r["student"], render(r))
            body = feedback_zip(Path(out), a.name, results).read_bytes()
    response = HttpResponse(body, content_type=EXPORTS[kind])
    response["Content-Disposition"] = f'attachment; filename="{a.name}-{kind}"'
    return response


# --- the LMS's roster, its import files, the report's plots -------------------------------------

@staff_required
@require_POST
def lms_roster(request, name: str):
    """Upload the LMS's own roster of the assignment (a Canvas gradebook export or a Moodle grading
    worksheet, autograder.service.lms): accounts with sign-in links, and the file kept for the
    LMS import files. Instructors only; a refused file changes nothing."""
    from autograder.errors import UsageError
    from autograder.service import lms

    _instructor(request)
    a = get_object_or_404(Assignment, name=name)
    upload = request.FILES.get("roster")
    if upload is None:
        return _staff_page(request, a, error="Choose the LMS's roster file (a CSV) to upload.", status=400)
    if upload.size > lms.MAX_BYTES:
        return _staff_page(request, a, error=f"“{upload.name}” is over {lms.MAX_BYTES // 2**20} MB: not a roster. "
                                             "Nothing was changed.", status=400)
    try:
        done = lms.import_roster(a, upload.read(), Path(upload.name).name, request.POST.get("column", "").strip(),
                                 request.POST.get("missing_as_zero") == "1", request.user,
                                 links=request.POST.get("links", "all") != "new")
    except UsageError as exc:
        return _staff_page(request, a, error=f"{exc}. Nothing was changed.", status=400)
    log.info("%s: %s uploaded a %s roster (%d people)", a.name, request.user.username, done.kind, len(done.accounts))
    base = request.build_absolute_uri("/").rstrip("/")
    return render(request, "service/lms_imported.html", {
        "a": a, "done": done, "kind": lms.KINDS[done.kind],
        "people": [{"i": i, "link": f"{base}/signin/{i.token}/" if i.token else ""} for i in done.accounts]})


@staff_required
@require_GET
def lms_export(request, name: str, kind: str):
    """The Canvas import file or the filled-in Moodle worksheet, as ``grade --roster`` writes it
    (autograder.lms.exports) from the counted results: staff, TAs included."""
    from autograder.service import lms

    a = get_object_or_404(Assignment, name=name)
    made = lms.export(a)
    if made is None or not made[0].endswith(f"-{kind}"):
        raise Http404
    filename, text, _ = made
    response = HttpResponse(text.encode(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@staff_required
@require_GET
def plot(request, name: str, which: str):
    """One of the batch report's plots (autograder.outputs.report.plots) of the counted results,
    drawn here: aggregates only, and for staff only."""
    from autograder.outputs.report import PLOTS, plots
    from autograder.service.policy import gradebook_results

    a = get_object_or_404(Assignment, name=name)
    if which not in PLOTS:
        raise Http404
    response = HttpResponse(plots(a.name, gradebook_results(a), only=which)[which], content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


# --- policies: extensions and due dates (docs/policies.md, "In the submission service") --------

@staff_required
@require_POST
def extension(request, name: str):
    """Grant (until, reason) or revoke (revoke=1, reason) one student's extension: instructors
    only. Every grant and revocation is kept; the counted score, exports and LMS follow."""
    from django.contrib.auth import get_user_model

    from autograder.policies.model import PolicyError
    from autograder.service import policy
    from autograder.service.lti_services import student_changed

    _instructor(request)
    a = get_object_or_404(Assignment, name=name)
    student = get_user_model().objects.filter(username=request.POST.get("student", "").strip()).first()
    if student is None:
        return _staff_page(request, a, error="No such student.", status=400)
    reason = request.POST.get("reason", "")
    try:
        if request.POST.get("revoke") == "1":
            n = policy.revoke(a, student, reason, request.user)
            notice = f"{student.username}: extension revoked." if n else f"{student.username} has no extension."
        else:
            done = policy.grant(a, student, request.POST.get("until", ""), reason, request.user)
            notice = f"{student.username}: extension until {done.row.until:%Y-%m-%d %H:%M %Z} granted." + \
                (f" Note: {done.note}." if done.note else "")
    except PolicyError as exc:
        return _staff_page(request, a, error=f"Nothing changed: {exc}.", status=400)
    student_changed(a, student)   # the LMS (and, with late days, the student's other assignments)
    return _staff_page(request, a, notice=notice)


@staff_required
@require_POST
def set_due(request, name: str):
    """Set (or clear, when blank) the assignment's due date: instructors only; refused when
    course.toml names it (the one source then). Every counted score is sent to the LMS again."""
    from autograder.policies.model import PolicyError
    from autograder.service import policy
    from autograder.service.lti_services import resend_all

    _instructor(request)
    a = get_object_or_404(Assignment, name=name)
    if policy.toml_due(a.name):
        return _staff_page(request, a, error="This due date comes from course.toml: change it there "
                                             "(the service reads it at its next start).", status=400)
    text = request.POST.get("due", "").strip()
    try:
        due = policy.parse_until(a, text).at if text else None
    except PolicyError as exc:
        return _staff_page(request, a, error=f"Nothing changed: {str(exc).replace('until: ', '')}.", status=400)
    Assignment.objects.filter(pk=a.pk).update(due=due)
    log.info("%s: %s set the due date to %s", a.name, request.user.username, due)
    resend_all()   # late days are spent across assignments: every counted score may move
    a.refresh_from_db()
    return _staff_page(request, a, notice="Due date cleared." if due is None else "Due date set.")
