"""Hidden check results by each student's own due date (docs/policies.md, "In the submission
service"; docs/lti.md, "Scores"), on the real PostgreSQL fixture with the fake sandbox: under
"after the due date", a student with an extension may still upload after the course's due date
and sees no hidden result (pages, feedback, counted score) until their own date passes, while the
others see theirs; the LMS gradebook (tests/service/lti_platform.py, built from the 1EdTech AGS
specification) receives no score that counts hidden checks before the student may see them
(``Submitted``/``Pending``, no scoreGiven), then the counted score ``FullyGraded`` when staff
publish, or when the student's due date passes (the worker's periodic loop, no web request)."""

from __future__ import annotations

import threading
from datetime import timedelta

from tests.service.helpers import NAME, account, client_for, notebook_bytes, run_queue, submission_id, upload
from tests.service.test_lti import _client, _launch, _who, lms  # noqa: F401 - the LTI test platform fixture


def _hidden_names(pk) -> list[str]:
    from autograder.service.models import Submission

    return [c["name"] for c in Submission.objects.get(pk=pk).result["checks"] if c["hidden"]]


def _sees_hidden(client, pk, staff: bool = False) -> bool:
    """Whether ``client`` sees the submission's hidden checks, on each page that shows them (its
    student: the feedback, the submission's state, the history and home pages; staff: the first two)."""
    from autograder.outputs.feedback import feedback_html
    from autograder.service.models import Submission

    sub = Submission.objects.get(pk=pk)
    public = dict(sub.result, checks=[c for c in sub.result["checks"] if not c["hidden"]])
    feedback = client.get(f"/s/{pk}/feedback/").content.decode()
    full = feedback.count("<li") == feedback_html(sub.result).count("<li")
    assert full or feedback.count("<li") == feedback_html(public).count("<li")
    state = client.get(f"/s/{pk}/state/").content.decode()
    # the fake course: 1 point public, 1 hidden; a right answer scores 2 / 2, its public part 1 / 1
    views = [full, "2 / 2" in state]
    if not staff:
        views += ["2 / 2" in client.get(f"/a/{NAME}/").content.decode(), "2 / 2" in client.get("/").content.decode()]
    assert all(views) or not any(views), views   # every page says the same
    assert ("1 / 1" in state) is not full
    return full


def test_an_extension_lets_its_student_upload_after_the_due_date_without_seeing_hidden_results(svc):
    from django.utils import timezone

    from autograder.service.models import Assignment, Extension

    ada, bob = account("ada"), account("bob")
    prof = client_for(account("prof", "instructor"))
    ca, cb = client_for(ada), client_for(bob)
    pa, pb = (submission_id(upload(c, notebook_bytes(svc["course"]))) for c in (ca, cb))
    run_queue()
    assert _hidden_names(pa)
    Assignment.objects.filter(name=NAME).update(hidden_results="after_due", due=timezone.now() - timedelta(hours=1))
    until = (timezone.now() + timedelta(days=1)).astimezone(timezone.get_current_timezone())
    r = prof.post(f"/staff/a/{NAME}/extension/", {"student": "ada", "until": until.strftime("%Y-%m-%d %H:%M"),
                                                   "reason": "doctor's note"})
    assert r.status_code == 200 and "extension until" in r.content.decode()

    assert _sees_hidden(cb, pb)                      # the course's due date passed: bob sees his
    assert upload(cb, notebook_bytes(svc["course"], "x")).status_code == 403
    assert not _sees_hidden(ca, pa)                  # ada may still upload: hers stay hidden
    page = ca.get(f"/a/{NAME}/").content.decode()
    assert 'id="own-due"' in page and "shown after your extended due date" in page and 'id="closed"' not in page
    assert "Counted score" not in page
    second = upload(ca, notebook_bytes(svc["course"], "x"))
    assert second.status_code == 302                 # the fix: refused before, by the course's due date
    run_queue()
    assert not _sees_hidden(ca, submission_id(second))
    assert _sees_hidden(prof, pa, staff=True)                  # staff see every check, whenever

    Extension.objects.filter(student=ada).update(until=timezone.now() - timedelta(minutes=1))   # her date passed
    assert _sees_hidden(ca, pa)
    r = upload(ca, notebook_bytes(svc["course"], "xy"))
    assert r.status_code == 403 and "due date has passed" in r.content.decode()


def _graded_through_the_lms(lms, course):  # noqa: F811
    student = _client()
    _launch(student, lms, "ada", custom={"assignment": NAME})
    student.get(f"/a/{NAME}/")
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = student.post(f"/a/{NAME}/submit/", {"notebook": SimpleUploadedFile(f"{NAME}.ipynb", notebook_bytes(course)),
                                            "csrfmiddlewaretoken": student.cookies["csrftoken"].value})
    assert r.status_code == 302, r.content
    run_queue()
    return _who(student)


WITHHELD = {"activityProgress": "Submitted", "gradingProgress": "Pending"}


def _withheld(body: dict) -> bool:
    assert body["userId"] == "lms-user-ada"
    if "scoreGiven" in body:
        return False
    assert {k: body[k] for k in WITHHELD} == WITHHELD
    assert "scoreMaximum" not in body and "comment" not in body
    return True


def test_the_lms_gets_no_hidden_points_until_staff_publish(lms, svc):  # noqa: F811
    ada = _graded_through_the_lms(lms, svc["course"])   # default: hidden results when staff publish
    [first] = lms.scores
    assert _withheld(first["body"])
    prof = client_for(account("prof", "instructor"))
    prof.post(f"/staff/a/{NAME}/publish/", {"published": "1"})
    run_queue()
    body = lms.scores[-1]["body"]
    assert (body["scoreGiven"], body["scoreMaximum"]) == (2.0, 2.0)
    assert (body["activityProgress"], body["gradingProgress"]) == ("Completed", "FullyGraded")
    prof.post(f"/staff/a/{NAME}/publish/", {"published": "0"})    # withdrawn: the LMS follows the student's view
    run_queue()
    assert _withheld(lms.scores[-1]["body"])
    # an override is shown to the student on every page: it is sent, as before
    prof.post(f"/staff/a/{NAME}/override/", {"student": ada.username, "score": "1.5", "reason": "appeal"})
    run_queue()
    assert lms.scores[-1]["body"]["scoreGiven"] == 1.5


def test_the_lms_gets_the_score_when_the_students_own_due_date_passes_without_a_request(lms, svc):  # noqa: F811
    from django.utils import timezone

    from autograder.service import grading
    from autograder.service.lti_services import release_withheld
    from autograder.service.models import Assignment, Extension

    Assignment.objects.filter(name=NAME).update(hidden_results="after_due", due=timezone.now() + timedelta(hours=1))
    ada = _graded_through_the_lms(lms, svc["course"])
    assert _withheld(lms.scores[-1]["body"])
    assert release_withheld() == 0                      # not due yet: nothing to send
    Assignment.objects.filter(name=NAME).update(due=timezone.now() - timedelta(minutes=5))
    Extension.objects.create(assignment=Assignment.objects.get(name=NAME), student=ada,
                             until=timezone.now() + timedelta(hours=1), reason="doctor's note")
    assert release_withheld() == 0                      # the course's date passed, not hers
    run_queue()
    assert _withheld(lms.scores[-1]["body"])
    Extension.objects.filter(student=ada).update(until=timezone.now() - timedelta(seconds=1))
    sent = len(lms.scores)
    stop = threading.Event()
    stop.set()
    grading.keep_alive(stop, "test", every_s=0)          # one beat of a worker's periodic loop
    run_queue()
    body = lms.scores[-1]["body"]
    assert len(lms.scores) == sent + 1
    assert (body["scoreGiven"], body["activityProgress"], body["gradingProgress"]) == (2.0, "Completed", "FullyGraded")
    assert release_withheld() == 0                      # sent: nothing more at the next beats
