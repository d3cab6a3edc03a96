"""The course's policies in the submission service (docs/policies.md, "In the submission
service"), on the real PostgreSQL fixture with the fake sandbox: a late upload's counted score on
the student's pages, the staff roster, the grades CSV and the Canvas import file; an extension granted after grading
changes the counted score, the export and the AGS passback (tests/service/lti_platform.py
receives the new score) and never the stored automatic score, and revoking it restores the
penalty; which submission counts; late days across assignments in due order; the rate limit from
course.toml; course.toml as the one source of a due date it names.

Submission times are the uploads' ``created``: where a test needs an upload at a given instant,
it moves that column (the upload itself went through the page)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.service.helpers import NAME, account, client_for, notebook_bytes, run_queue, submission_id, upload
from tests.service.test_lms_roster import CANVAS, _post_roster, canvas_import
from tests.service.test_lti import _client, _launch, _who, lms  # noqa: F401 - the LTI test platform fixture

BERLIN = ZoneInfo("Europe/Berlin")
LATE_25 = '[policy]\ntime_zone = "Europe/Berlin"\n[policy.late]\nrule = "per_day"\npercent = 25\n'


@pytest.fixture
def toml(svc):
    """Writes the course's course.toml for one test; removed after (the course is the session's)."""
    path = svc["course"] / "course.toml"

    def write(text: str) -> None:
        path.write_text(text)

    yield write
    path.unlink(missing_ok=True)


def _graded(client, course, at: datetime | None = None, wrong_by: str = "") -> str:
    """One upload through the page, graded; ``at``: its submission time."""
    from autograder.service.models import Submission

    pk = submission_id(upload(client, notebook_bytes(course, wrong_by)))
    run_queue()
    if at is not None:
        Submission.objects.filter(pk=pk).update(created=at)
    return pk


def _local(at: datetime) -> str:
    return at.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M")


def _grades(prof) -> dict[str, dict]:
    r = prof.get(f"/staff/a/{NAME}/export/grades.csv")
    assert r.status_code == 200
    return {row["id"]: row for row in csv.DictReader(io.StringIO(r.content.decode()))}


def test_a_late_upload_counts_less_on_every_page_and_export_and_the_stored_score_stays(svc, toml):
    from autograder.service.models import Assignment, Submission

    toml(LATE_25)
    ada, prof = account("ada"), client_for(account("prof", "instructor"))
    student = client_for(ada)
    pk = _graded(student, svc["course"])
    due = datetime.now(timezone.utc) - timedelta(hours=5)
    r = prof.post(f"/staff/a/{NAME}/due/", {"due": _local(due)})     # set after grading
    assert r.status_code == 200 and "Due date set." in r.content.decode()
    assert Assignment.objects.get(name=NAME).due == due.replace(second=0, microsecond=0)

    page = student.get(f"/a/{NAME}/").content.decode()
    assert "Late: submitted 5 hours" in page and "−25% (25% per started day)" in page
    assert "Counted score" not in page      # hidden checks not shown yet: the counted score includes them
    prof.post(f"/staff/a/{NAME}/publish/", {"published": "1"})
    page = student.get(f"/a/{NAME}/").content.decode()
    assert "Counted score: <strong>1.50 / 2</strong> (automatic 2; late penalty −0.50). Late: submitted 5 hours" in page
    assert "Late: submitted 5 hours" in student.get(f"/s/{pk}/").content.decode()
    feedback = student.get(f"/s/{pk}/feedback/").content.decode()
    assert "the late penalty took 0.5" in feedback and "Late: submitted 5 hours" in feedback
    assert "counted <strong>1.50</strong>" in student.get("/").content.decode()

    roster = prof.get(f"/staff/a/{NAME}/").content.decode()
    row = roster[roster.index("<td>ada</td>"):].split("</tr>")[0]
    assert '<td class="final">1.50' in row and "−0.5" in row and "Late: " not in row and "submitted 5 hours" in row
    exported = _grades(prof)["ada"]
    assert (exported["score"], exported["automatic_score"], exported["late"], exported["late_deduction"]) == \
        ("1.5", "2", "late", "0.5")
    assert exported["late_rule"].startswith("submitted 5 hours")
    # the LMS's import file (Canvas, tests/service/test_lms_roster.py's export by canvas-lms's rules)
    assert _post_roster(prof, CANVAS).status_code == 200
    canvas = canvas_import(prof.get(f"/staff/a/{NAME}/lms/canvas.csv").content.decode())
    assert canvas["grades"]["101"]["555"] == "7.5"   # the counted 1.5 of 2 on the column's 10 points (not 10)
    assert Submission.objects.get(pk=pk).score == 2.0   # the automatic score, as graded


def test_an_extension_after_grading_moves_the_counted_score_export_and_lms_and_revoking_restores(lms, svc, toml):  # noqa: F811
    from autograder.service.models import Assignment, Extension, Submission

    toml(LATE_25)
    # hidden results shown at once: the LMS gets each counted score as it moves (otherwise withheld
    # until the student sees the hidden checks: tests/service/test_hidden_per_student.py)
    Assignment.objects.filter(name=NAME).update(hidden_results=Assignment.Hidden.AT_ONCE)
    student = _client()
    _launch(student, lms, "ada", custom={"assignment": NAME})
    ada = _who(student)
    student.get(f"/a/{NAME}/")
    from django.core.files.uploadedfile import SimpleUploadedFile

    student.post(f"/a/{NAME}/submit/", {"notebook": SimpleUploadedFile(f"{NAME}.ipynb", notebook_bytes(svc["course"])),
                                        "csrfmiddlewaretoken": student.cookies["csrftoken"].value})
    run_queue()
    assert lms.scores[-1]["body"]["scoreGiven"] == 2.0   # graded before any due date
    prof = client_for(account("prof", "instructor"))
    prof.post(f"/staff/a/{NAME}/due/", {"due": _local(datetime.now(timezone.utc) - timedelta(hours=5))})
    run_queue()
    body = lms.scores[-1]["body"]
    assert (body["scoreGiven"], body["scoreMaximum"]) == (1.5, 2.0)
    assert body["comment"].startswith("Late: submitted 5 hours") and "−25%" in body["comment"]

    until = _local(datetime.now(timezone.utc) + timedelta(days=1))
    r = prof.post(f"/staff/a/{NAME}/extension/", {"student": "ada", "until": until, "reason": "doctor's note"})
    assert r.status_code == 200 and "extension until" in r.content.decode()
    run_queue()
    body = lms.scores[-1]["body"]
    assert body["scoreGiven"] == 2.0 and body["comment"].startswith("on time, with an extension until ")
    assert body["comment"].endswith(": doctor's note")
    assert _grades(prof)["ada"]["score"] == "2" and _grades(prof)["ada"]["late"] == ""
    assert "extension until" in prof.get(f"/staff/a/{NAME}/").content.decode()

    r = prof.post(f"/staff/a/{NAME}/extension/", {"student": "ada", "revoke": "1", "reason": "granted by mistake"})
    assert r.status_code == 200 and "extension revoked" in r.content.decode()
    run_queue()
    assert lms.scores[-1]["body"]["scoreGiven"] == 1.5
    assert _grades(prof)["ada"]["score"] == "1.5"
    [grant] = Extension.objects.filter(student=ada)        # kept, marked revoked: history
    assert grant.reason == "doctor's note" and grant.revoked is not None and grant.revoke_reason == "granted by mistake"
    assert [s.score for s in Submission.objects.filter(student=ada)] == [2.0]   # never rewritten
    listed = prof.get("/admin/service/extension/")      # the admin lists the history, read-only
    assert listed.status_code == 200 and "doctor&#x27;s note" in listed.content.decode()
    assert prof.get(f"/admin/service/extension/{grant.pk}/delete/").status_code == 403


def test_extension_form_refusals_change_nothing(svc, toml):
    from autograder.service.models import Extension

    toml(LATE_25 + f'[assignments.{NAME}.policy]\ndue = "2026-06-01 12:00"\n')
    account("ada")
    prof = client_for(account("prof", "instructor"), csrf=False)
    cases = [({"student": "ada", "until": "2026-06-05 12:00", "reason": "  "}, "needs its reason"),
             ({"student": "ada", "until": "2026-06-01 11:00", "reason": "x"}, "is not after the due date"),
             ({"student": "ada", "until": "20260605", "reason": "x"}, "is not a date and time"),
             ({"student": "nobody", "until": "2026-06-05 12:00", "reason": "x"}, "No such student")]
    for form, words in cases:
        r = prof.post(f"/staff/a/{NAME}/extension/", form)
        assert r.status_code == 400 and words in r.content.decode(), form
    assert not Extension.objects.exists()
    # course.toml names this due date: it is the one source, the staff form refuses another
    r = prof.post(f"/staff/a/{NAME}/due/", {"due": "2026-07-01 12:00"})
    assert r.status_code == 400 and "comes from course.toml" in r.content.decode()
    ta = client_for(account("tina", "ta"))
    assert ta.post(f"/staff/a/{NAME}/extension/", {"student": "ada", "until": "2026-06-05", "reason": "x"}
                   ).status_code == 403
    # the forms carry their CSRF token; a post without it is refused (the page's form, then the post)
    strict = client_for(account("prof", "instructor"), csrf=True)
    page = strict.get(f"/staff/a/{NAME}/").content.decode()
    assert 'id="extension-form"' in page and 'id="due-form"' not in page   # course.toml names the due date
    assert "Due: 2026-06-01 12:00 Europe/Berlin (from course.toml). Late work: 25% per started day." in page
    good = {"student": "ada", "until": "2026-06-05 12:00", "reason": "x"}
    assert strict.post(f"/staff/a/{NAME}/extension/", good).status_code == 403
    assert not Extension.objects.exists()
    token = strict.cookies["csrftoken"].value
    assert strict.post(f"/staff/a/{NAME}/extension/", dict(good, csrfmiddlewaretoken=token)).status_code == 200
    assert Extension.objects.get().until == datetime(2026, 6, 5, 12, 0, tzinfo=BERLIN)


@pytest.mark.parametrize("counts, on_time, scores", [
    # (counts, the first upload on time?, what counts): a first upload at 11:00 and a second at 14:00
    # (or 13:30 the next day), due 12:00 Berlin, 25% per started day
    ("latest", True, 1.5), ("latest_before_due", True, 2.0), ("best", True, 2.0),
    ("latest_before_due", False, 1.0), ("best", False, 1.5),
])
def test_which_submission_counts(svc, toml, counts, on_time, scores):
    from autograder.service.scores import counted_score
    from autograder.service.models import Assignment

    toml(f'[policy]\ntime_zone = "Europe/Berlin"\ncounts = "{counts}"\n[policy.late]\nrule = "per_day"\npercent = 25\n'
         f'[assignments.{NAME}.policy]\ndue = "2026-06-01 12:00"\n')
    ada = account("ada")
    student = client_for(ada)
    first = datetime(2026, 6, 1, 11, 0, tzinfo=BERLIN) if on_time else datetime(2026, 6, 1, 14, 0, tzinfo=BERLIN)
    second = datetime(2026, 6, 1, 14, 0, tzinfo=BERLIN) if on_time else datetime(2026, 6, 2, 13, 30, tzinfo=BERLIN)
    a = _graded(student, svc["course"], first)
    b = _graded(student, svc["course"], second, wrong_by="x")
    got = counted_score(Assignment.objects.get(name=NAME), ada)
    assert got.score == scores and got.automatic == 2.0
    want = {"latest": b, "latest_before_due": a if on_time else b, "best": a}[counts]
    assert str(got.submission.pk) == want
    page = student.get(f"/a/{NAME}/").content.decode()
    assert page.count('<span class="tag">counts</span>') == 1
    # a regrade grades every candidate the rule chooses from (the latest only under "latest")
    from autograder.service.grading import regrade_counted

    assert sorted(regrade_counted(Assignment.objects.get(name=NAME))) == sorted([b] if counts == "latest" else [a, b])
    run_queue()
    row = page[page.index(f"/s/{want}/"):].split("</tr>")[0]
    assert '<span class="tag">counts</span>' in row


def test_late_days_are_spent_in_due_order_across_assignments_and_an_extension_frees_one(svc, toml):
    """A second assignment with an earlier due date (staff-set; its graded row stored directly:
    the fake course has one assignment folder): its lateness spends the one late day first."""
    from autograder.service.models import Assignment, Submission
    from autograder.service.scores import counted_score

    toml(LATE_25.replace("[policy.late]", "late_days = 1\n[policy.late]"))
    ada, prof = account("ada"), client_for(account("prof", "instructor"))
    early = Assignment.objects.create(name="03_early", due=datetime(2026, 5, 1, 12, 0, tzinfo=BERLIN))
    this = Assignment.objects.get(name=NAME)
    Assignment.objects.filter(pk=this.pk).update(due=datetime(2026, 6, 1, 12, 0, tzinfo=BERLIN))
    try:
        pk = _graded(client_for(ada), svc["course"], datetime(2026, 6, 1, 15, 0, tzinfo=BERLIN))
        result = Submission.objects.get(pk=pk).result
        Submission.objects.create(assignment=early, student=ada, filename="x.ipynb", size=1, sha256="0" * 64,
                                  state=Submission.State.GRADED, created=datetime(2026, 5, 1, 14, 0, tzinfo=BERLIN),
                                  result=dict(result, assignment="03_early"), score=2.0, max_score=2.0)
        assert counted_score(early, ada).explanation == "submitted 2 hours late; 1 late day used: no penalty"
        this = Assignment.objects.get(pk=this.pk)
        assert counted_score(this, ada).score == 1.5        # the day went to the earlier assignment
        r = prof.post("/staff/a/03_early/extension/", {"student": "ada", "until": "2026-05-02 12:00", "reason": "ill"})
        assert r.status_code == 200
        assert counted_score(early, ada).score == 2.0 and counted_score(early, ada).policy.late_days_used == 0
        got = counted_score(this, ada)
        assert (got.score, got.policy.late_days_used) == (2.0, 1)   # the freed day covers this one
    finally:
        Submission.objects.filter(assignment=early).delete()
        early.delete()


def test_the_rate_limit_of_course_toml_wins_over_the_setting(svc, toml):
    from autograder.service.models import Submission

    toml("[policy]\nrate_limit = {submissions = 2, per_minutes = 30}\n")   # the setting says 5 an hour
    student = client_for(account("ada"))
    assert "at most 2 submissions to this assignment per 30 minutes" in student.get(f"/a/{NAME}/").content.decode()
    for n in range(2):
        assert upload(student, notebook_bytes(svc["course"], "x" * n)).status_code == 302
    r = upload(student, notebook_bytes(svc["course"], "xyz"))
    assert r.status_code == 429 and "submitted 2 times to this assignment in the last 30 minutes, the limit" in r.content.decode()
    assert Submission.objects.count() == 2
    Submission.objects.update(created=datetime.now(timezone.utc) - timedelta(minutes=31))   # the window passed
    assert upload(student, notebook_bytes(svc["course"], "xyz")).status_code == 302


def test_sync_copies_course_toml_due_and_hidden_results_and_resends_on_a_change(svc, toml):
    from autograder.service import course
    from autograder.service.models import Assignment, PolicyState

    toml(f'[policy]\ntime_zone = "Europe/Berlin"\nhidden_results = "after_due"\n'
         f'[assignments.{NAME}.policy]\ndue = "2026-06-01 12:00"\n')
    course.sync()
    a = Assignment.objects.get(name=NAME)
    assert a.due == datetime(2026, 6, 1, 10, 0, tzinfo=timezone.utc)
    assert a.hidden_results == Assignment.Hidden.AFTER_DUE
    digest = PolicyState.objects.get().digest
    toml(f'[assignments.{NAME}.policy]\ndue = "2026-06-02 12:00"\n')
    course.sync()
    assert Assignment.objects.get(name=NAME).due == datetime(2026, 6, 2, 12, 0, tzinfo=timezone.utc)
    assert PolicyState.objects.get().digest != digest
    toml("[policy]\ncounts = \"sometimes\"\n")
    from autograder.policies.model import PolicyError

    with pytest.raises(PolicyError, match="counts"):
        course.sync()
    # edited while serving: the pages go on with the policies read before, and staff are told
    from autograder.service.scores import counted_score

    assert counted_score(Assignment.objects.get(name=NAME), account("ada")).score is None
    page = client_for(account("prof", "instructor")).get("/staff/").content.decode()
    assert "course.toml cannot be read" in page and "&#x27;sometimes&#x27; is not one of" in page
