"""The review's findings, each pinned: a late failure never overwrites another worker's result, a
regrade keeps the counted result until the new one is stored, the rate limit holds under parallel
uploads, no late upload when hidden results show after the due date, a queued submission without
its job is enqueued again, the service home is private, the size limit is per request, staff pages
leave the logs out, sign-in links are revoked by a new one, TAs have no admin, a bad query is ignored."""

from __future__ import annotations

import stat
import threading

import pytest

from tests.service.helpers import NAME, account, client_for, notebook_bytes, run_queue, submission_id, upload


def _sub(pk):
    from autograder.service.models import Submission

    return Submission.objects.get(pk=pk)


def test_a_failure_after_the_lease_was_lost_keeps_the_other_workers_result(svc, monkeypatch):
    from autograder.service import grading
    from autograder.service.models import Submission

    pk = submission_id(upload(client_for(account("ada")), notebook_bytes(svc["course"])))

    def lost_then_broken(*args, **kwargs):   # meanwhile another worker took the job over and stored it
        Submission.objects.filter(pk=pk).update(state="graded", worker="other:1", attempts=2, score=2.0,
                                                result={"status": "graded"})
        raise RuntimeError("late failure")

    monkeypatch.setattr(grading, "grade_file", lost_then_broken)
    assert grading.grade(pk) == "lease lost"
    sub = _sub(pk)
    assert sub.state == "graded" and sub.score == 2.0 and sub.message == ""


def test_a_regrade_keeps_the_counted_result_until_the_new_one_and_a_failed_regrade_keeps_it(svc, monkeypatch):
    from autograder.service import grading
    from autograder.service.models import Assignment
    from autograder.service.results import counted

    ada = account("ada")
    pk = submission_id(upload(client_for(ada), notebook_bytes(svc["course"])))
    run_queue()
    a = Assignment.objects.get(name=NAME)
    assert grading.regrade_counted(a) == [pk]
    # while the regrade waits, the earlier result still counts
    assert counted(a.submissions.filter(student=ada)) is not None
    assert counted(a.submissions.filter(student=ada)).pk == _sub(pk).pk and _sub(pk).score == 2.0

    def broken(*args, **kwargs):
        raise RuntimeError("the regrade broke")

    monkeypatch.setattr(grading, "grade_file", broken)
    assert run_queue() == 1
    sub = _sub(pk)
    assert sub.state == "graded" and sub.score == 2.0 and sub.result["status"] == "graded"
    assert counted(a.submissions.filter(student=ada)).pk == sub.pk
    monkeypatch.undo()
    grading.regrade_counted(a)
    assert run_queue() == 1
    sub = _sub(pk)
    assert sub.state == "graded" and sub.score == 2.0 and not sub.regrade_pending


def test_parallel_uploads_cannot_pass_the_rate_limit(svc, monkeypatch):
    from django.db import connection

    from autograder.service import storage
    from autograder.service.models import Submission

    ada = account("ada")
    client = client_for(ada)
    for n in range(4):   # the tests' limit: 5 an hour
        assert upload(client, notebook_bytes(svc["course"], wrong_by="x" * n)).status_code == 302
    barrier, keep = threading.Barrier(2, timeout=20), storage.keep

    def keep_together(*args):   # both uploads past the first count before either is recorded
        barrier.wait()
        return keep(*args)

    monkeypatch.setattr(storage, "keep", keep_together)
    codes = []

    def one(n):
        try:
            codes.append(upload(client_for(ada), notebook_bytes(svc["course"], wrong_by="y" * n)).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == [302, 429]
    assert Submission.objects.filter(student=ada).count() == 5


def test_no_upload_after_the_due_date_when_hidden_results_show_after_it(svc):
    from datetime import timedelta

    from django.utils import timezone

    from autograder.service.models import Assignment, Submission

    Assignment.objects.filter(name=NAME).update(hidden_results="after_due", due=timezone.now() - timedelta(hours=1))
    response = upload(client_for(account("ada")), notebook_bytes(svc["course"]))
    assert response.status_code == 403 and "due date has passed" in response.content.decode()
    assert Submission.objects.count() == 0
    # before the due date, or with another setting, uploads go on
    Assignment.objects.filter(name=NAME).update(due=timezone.now() + timedelta(hours=1))
    assert upload(client_for(account("ada")), notebook_bytes(svc["course"])).status_code == 302


def test_a_queued_submission_without_its_job_is_enqueued_again(svc):
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from autograder.service import grading
    from autograder.service.models import Assignment, Submission

    a, ada = Assignment.objects.get(name=NAME), account("ada")
    old = timezone.now() - timedelta(hours=2)
    data = notebook_bytes(svc["course"])
    pk = submission_id(upload(client_for(ada), data))
    waiting = _sub(pk)   # has its job: left alone
    Submission.objects.filter(pk=pk).update(created=old)
    lost = Submission.objects.create(assignment=a, student=ada, filename="x.ipynb", size=len(data),
                                     sha256=waiting.sha256, created=old)   # the database dropped before its job
    assert DBTaskResult.objects.count() == 1
    assert str(lost.pk) in grading.requeue_expired()
    assert DBTaskResult.objects.count() == 2
    grading.requeue_expired()
    assert DBTaskResult.objects.count() == 2
    assert run_queue() == 2 and _sub(lost.pk).state == "graded"


def test_the_service_home_is_private_and_ignored_by_git(svc):
    from django.conf import settings

    from autograder.service import settings as service_settings

    home = settings.SERVICE_HOME
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert (home / ".gitignore").read_text().strip() == "*"
    pk = submission_id(upload(client_for(account("ada")), notebook_bytes(svc["course"])))
    assert stat.S_IMODE(_sub(pk).stored_path().stat().st_mode) & 0o077 == 0
    db = home / "private.sqlite3"
    service_settings.private_file(db)
    assert db.exists() and stat.S_IMODE(db.stat().st_mode) == 0o600


def _multipart(notebook: bytes, parts: int, size: int) -> tuple[bytes, str]:
    boundary = "XyZboundary"
    body = b""
    data = notebook + b" " * (size - len(notebook))   # a notebook that would be stored alone
    for n in range(parts):
        name = "notebook" if n == 0 else f"extra{n}"
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{NAME}.ipynb\"\r\n"
                 "Content-Type: application/octet-stream\r\n\r\n").encode() + data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("max_files, status", [(1, 400), (3, 413)])
def test_the_size_limit_counts_the_whole_request(svc, max_files, status):
    from django.conf import settings
    from django.test import override_settings
    from django_tasks_db.models import DBTaskResult

    from autograder.service.models import Submission

    body, content_type = _multipart(notebook_bytes(svc["course"]), 3, 200 * 1024)   # each under the tests' 0.25 MB limit, not together
    before = len(list(settings.UPLOAD_ROOT.rglob("*"))) if settings.UPLOAD_ROOT.exists() else 0
    with override_settings(DATA_UPLOAD_MAX_NUMBER_FILES=max_files):
        response = client_for(account("ada")).generic("POST", f"/a/{NAME}/submit/", body, content_type=content_type)
    assert response.status_code == status
    assert Submission.objects.count() == 0 and DBTaskResult.objects.count() == 0
    assert (len(list(settings.UPLOAD_ROOT.rglob("*"))) if settings.UPLOAD_ROOT.exists() else 0) == before
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES == 1


def test_staff_and_student_pages_leave_the_logs_out(svc):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ada = account("ada")
    pk = submission_id(upload(client_for(ada), notebook_bytes(svc["course"])))
    run_queue()
    prof = client_for(account("prof", "instructor"))
    for client, url in ((prof, f"/staff/a/{NAME}/"), (prof, f"/staff/a/{NAME}/export/grades.csv"),
                        (client_for(ada), "/"), (client_for(ada), f"/a/{NAME}/"),
                        (client_for(ada), f"/s/{pk}/")):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        sql = [q["sql"] for q in queries.captured_queries if "service_submission" in q["sql"]]
        # the submission page shows its own log to staff: only that one row may carry it
        with_log = [s for s in sql if '"service_submission"."log"' in s]
        assert len(with_log) <= (1 if url.startswith("/s/") else 0), (url, with_log)


def test_a_new_sign_in_link_revokes_the_unused_ones(svc):
    from autograder.service.accounts import import_roster
    from autograder.service.models import SignInLink

    first = import_roster("id,name\nada,Ada\n")[0].token
    second = import_roster("id,name\nada,Ada\n")[0].token
    assert not SignInLink.objects.get(token_sha256=SignInLink.digest(first)).valid()
    assert SignInLink.objects.get(token_sha256=SignInLink.digest(second)).valid()


def test_the_admin_is_for_instructors_only(svc):
    ta, prof = account("tina", "ta"), account("prof", "instructor")
    assert not ta.is_staff and prof.is_staff
    response = client_for(ta).get("/admin/")
    assert response.status_code in (302, 403) and client_for(prof).get("/admin/").status_code == 200
    assert 'href="/staff/"' in client_for(ta).get("/").content.decode()   # the staff pages stay theirs


def test_an_odd_regraded_count_is_ignored(svc):
    page = client_for(account("tina", "ta")).get(f"/staff/a/{NAME}/", {"regraded": "²"})
    assert page.status_code == 200 and "queued to be graded again" not in page.content.decode()


def test_a_regrade_whose_worker_died_is_tried_again_and_the_result_stays(svc):
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from autograder.service import grading
    from autograder.service.models import Assignment, Submission

    pk = submission_id(upload(client_for(account("ada")), notebook_bytes(svc["course"])))
    run_queue()
    grading.regrade_counted(Assignment.objects.get(name=NAME))
    assert grading.claim(pk) is not None and grading.claim(pk) is None   # claimed once, still graded
    Submission.objects.filter(pk=pk).update(started=timezone.now() - timedelta(hours=2))   # its worker died
    jobs = DBTaskResult.objects.count()
    assert pk in grading.requeue_expired() and DBTaskResult.objects.count() == jobs + 1
    sub = _sub(pk)
    assert sub.state == "graded" and sub.regrade_pending and sub.worker == "" and sub.score == 2.0
    run_queue()
    assert not _sub(pk).regrade_pending and _sub(pk).state == "graded"
