"""The service's core, in-process (Django's test client, the queue run in this process on the fake
sandbox): an upload is stored before it is "received", a worker grades it through the library API,
the page follows its state, the feedback is the batch's, an identical file reuses its result, a job
is claimed once. Runs on PostgreSQL, and again on SQLite (test_sqlite.py)."""

from __future__ import annotations

import threading

from tests.service.helpers import NAME, account, client_for, notebook_bytes, run_queue, submission_id, upload


def _sub(pk):
    from autograder.service.models import Submission

    return Submission.objects.get(pk=pk)


def test_an_upload_is_stored_queued_then_graded_by_a_worker(svc):
    from django_tasks_db.models import DBTaskResult

    from autograder.files import file_sha256

    ada = account("ada")
    client = client_for(ada)
    data = notebook_bytes(svc["course"])
    response = upload(client, data)
    assert response.status_code == 302
    pk = submission_id(response)
    sub = _sub(pk)
    # stored, whole, at its content address, before the page said "received"
    assert sub.state == "queued" and sub.stored_path().read_bytes() == data
    assert file_sha256(sub.stored_path()) == sub.sha256 and sub.size == len(data)
    assert DBTaskResult.objects.count() == 1
    page = client.get(f"/s/{pk}/")
    assert page.status_code == 200 and b"Submission received" in page.content and b"data-poll" in page.content
    assert run_queue() == 1
    sub = _sub(pk)
    assert sub.state == "graded" and (sub.score, sub.max_score) == (2.0, 2.0)
    assert sub.result["status"] == "graded" and sub.result["student"] == "ada"
    state = client.get(f"/s/{pk}/state/")
    assert b"data-poll" not in state.content and b"Graded" in state.content
    # hidden checks wait for staff to publish them: the student sees the public check's point
    assert b"1 / 1" in state.content and b"Hidden checks" in state.content


def test_a_page_far_back_in_the_queue_asks_for_its_state_less_often(svc):
    """The page's script waits ``data-poll-after`` seconds between asks: 1 while next or running,
    more the further back it is in a burst (at most 5), and nothing once graded."""
    import re

    from autograder.service.models import Submission

    pks = [submission_id(upload(client_for(account(f"q{i:02d}")), notebook_bytes(svc["course"], wrong_by=str(i))))
           for i in range(23)]

    def after(i: int) -> str | None:
        page = client_for(Submission.objects.get(pk=pks[i]).student).get(f"/s/{pks[i]}/state/").content.decode()
        found = re.search(r'data-poll-after="(\d+)"', page)
        return found and found.group(1)

    assert [after(0), after(9), after(10), after(22)] == ["1", "1", "2", "3"]
    assert run_queue() == 23 and after(22) is None


def test_the_feedback_page_is_the_batchs_and_hidden_results_follow_publication(svc):
    from autograder.outputs.feedback import feedback_html
    from autograder.service.models import Assignment

    bob = account("wrong-bob")
    client = client_for(bob)
    pk = submission_id(upload(client, notebook_bytes(svc["course"])))
    run_queue()
    sub = _sub(pk)
    assert (sub.score, sub.max_score) == (1.0, 2.0)
    page = client.get(f"/s/{pk}/feedback/")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    public_only = dict(sub.result, checks=[c for c in sub.result["checks"] if not c["hidden"]])
    assert page.content.decode().count("<li") == feedback_html(public_only).count("<li")
    Assignment.objects.filter(name=NAME).update(published=True)
    after = client.get(f"/s/{pk}/feedback/").content.decode()
    back = [(f"/a/{NAME}/", "← 04 scale: your submissions"), (f"/s/{pk}/", "This submission")]
    assert after == feedback_html(sub.result, back)   # the batch's page, with the way back to the service
    assert b"1 / 2" in client.get(f"/s/{pk}/state/").content


def test_an_identical_resubmission_reuses_its_result_and_another_file_is_graded(svc):
    from django_tasks_db.models import DBTaskResult

    client = client_for(account("ada"))
    data = notebook_bytes(svc["course"])
    first = submission_id(upload(client, data))
    run_queue()
    again = submission_id(upload(client, data))
    assert again != first and _sub(again).state == "graded" and str(_sub(again).reused_from_id) == first
    assert _sub(again).result["score"] == _sub(first).result["score"]
    assert DBTaskResult.objects.count() == 1   # no second job
    other = submission_id(upload(client, notebook_bytes(svc["course"], wrong_by="x")))
    assert _sub(other).state == "queued" and run_queue() == 1 and _sub(other).reused_from_id is None
    # the history lists all three, the latest counts
    page = client.get(f"/a/{NAME}/").content.decode()
    assert page.count("/s/") == 3 and page.count(">counts<") == 1


def test_a_job_is_claimed_by_one_worker_only(svc):
    from autograder.service import grading

    pk = submission_id(upload(client_for(account("ada")), notebook_bytes(svc["course"])))
    results, barrier = [], threading.Barrier(4)

    def claim():
        from django.db import connection

        barrier.wait()
        try:
            results.append(grading.claim(pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r is not None for r in results) == 1
    assert grading.grade(pk) == "claimed elsewhere" and _sub(pk).state == "running" and _sub(pk).attempts == 1


def test_a_grader_failure_is_failed_and_its_message_is_for_staff_only(svc):
    student = account("boom-carl")
    pk = submission_id(upload(client_for(student), notebook_bytes(svc["course"])))
    run_queue()
    sub = _sub(pk)
    assert sub.state == "failed" and sub.message
    mine = client_for(student).get(f"/s/{pk}/").content.decode()
    assert "grader failed" in mine and "fake grader broke" not in mine
    staff = client_for(account("tina", "ta")).get(f"/s/{pk}/").content.decode()
    assert "fake grader broke" in staff or sub.message.split(":")[0] in staff
    assert client_for(student).get(f"/s/{pk}/feedback/").status_code == 404


def test_the_counted_submission_follows_the_gradebooks_rule(svc):
    from autograder.service.models import Submission
    from autograder.service.results import counted

    client = client_for(account("ada"))
    upload(client, notebook_bytes(svc["course"]))
    run_queue()
    second = submission_id(upload(client, notebook_bytes(svc["course"], wrong_by="yy")))
    run_queue()
    assert str(counted(Submission.objects.filter(student__username="ada")).pk) == second


def test_the_staff_dashboard_shows_the_roster_counted_scores_and_publishes(svc):
    from autograder.service.models import Assignment

    for who in ("ada", "wrong-bob", "emma"):
        account(who)
    upload(client_for(account("ada")), notebook_bytes(svc["course"]))
    upload(client_for(account("wrong-bob")), notebook_bytes(svc["course"]))
    run_queue()
    prof, ta = account("prof", "instructor"), account("tina", "ta")
    page = client_for(ta).get(f"/staff/a/{NAME}/").content.decode()
    roster = page.split("Roster")[1]
    assert "ada" in roster and "wrong-bob" in roster and "emma" in roster and "prof" not in roster
    assert ">2 / 2<" in roster and ">1 / 2<" in roster
    assert client_for(ta).post(f"/staff/a/{NAME}/publish/", {"published": "1"}).status_code == 403
    assert client_for(prof).post(f"/staff/a/{NAME}/publish/", {"published": "1"}).status_code == 302
    assert Assignment.objects.get(name=NAME).published
    assert client_for(prof).get("/staff/").status_code == 200
    assert client_for(prof).get("/admin/").status_code == 200
    assert client_for(account("ada")).get("/admin/").status_code == 302   # the admin's own sign-in


def test_roster_import_and_one_time_sign_in_links(svc):
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    from autograder.service.accounts import import_roster
    from autograder.service.models import SignInLink

    done = import_roster("id,name,role\nada,Ada Lovelace,student\nprof,Prof,instructor\n")
    assert [(d.username, d.role, d.created) for d in done] == [("ada", "student", True), ("prof", "instructor", True)]
    c = Client(enforce_csrf_checks=True)
    link = f"/signin/{done[0].token}/"
    page = c.get(link)
    assert page.status_code == 200 and b"Sign in as ada" in page.content
    assert c.get("/").status_code == 302   # a GET (a link preview) signs nobody in
    assert c.post(link).status_code == 403  # CSRF
    token = page.content.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert c.post(link, {"csrfmiddlewaretoken": token}).status_code == 302
    assert c.get("/").status_code == 200
    assert Client().get(link).status_code == 404 and Client().post(link).status_code == 404   # used once
    late = SignInLink.issue(account("ada"))
    SignInLink.objects.filter(token_sha256=SignInLink.digest(late)).update(expires=timezone.now() - timedelta(1))
    assert Client().get(f"/signin/{late}/").status_code == 404
    assert Client().get("/signin/not-a-token/").status_code == 404


def test_a_job_whose_worker_died_is_graded_again_after_its_lease_and_a_late_result_is_dropped(svc):
    from datetime import timedelta

    from django.utils import timezone

    from autograder.service import grading
    from autograder.service.models import Submission

    pk = submission_id(upload(client_for(account("ada")), notebook_bytes(svc["course"])))
    dead = grading.claim(pk)                      # a worker took it, then was SIGKILLed
    assert grading.requeue_expired() == []        # within its lease: left alone
    Submission.objects.filter(pk=pk).update(started=timezone.now() - timedelta(hours=1))
    assert grading.requeue_expired() == [pk] and _sub(pk).state == "queued"
    assert run_queue() == 2                       # its first task (not yet taken here), then the new one
    assert _sub(pk).state == "graded" and _sub(pk).attempts == 2
    # the first worker coming back late stores nothing over the result
    assert grading._mine(dead).update(score=0) == 0 and _sub(pk).score == 2.0


def test_a_job_that_kills_every_worker_fails_after_its_attempts(svc):
    from datetime import timedelta

    from django.utils import timezone

    from autograder.service import grading
    from autograder.service.models import Submission

    pk = submission_id(upload(client_for(account("ada")), notebook_bytes(svc["course"])))
    Submission.objects.filter(pk=pk).update(state="running", attempts=3,
                                            started=timezone.now() - timedelta(hours=1))
    assert grading.requeue_expired() == [pk] and _sub(pk).state == "failed" and "3 tries" in _sub(pk).message


def test_the_dashboard_lists_the_workers_alive(svc):
    from autograder.service import grading

    prof = client_for(account("prof", "instructor"))
    assert "No worker has been seen" in prof.get("/staff/").content.decode()
    grading.heartbeat("local")
    assert f"{grading.WORKER_ID} (local)" in prof.get("/staff/").content.decode()


def test_the_runs_log_is_kept_for_staff_only(svc):
    student = account("ada")
    pk = submission_id(upload(client_for(student), notebook_bytes(svc["course"])))
    run_queue()
    assert _sub(pk).log.strip()
    assert "Log (staff only)" not in client_for(student).get(f"/s/{pk}/").content.decode()
    staff = client_for(account("tina", "ta")).get(f"/s/{pk}/").content.decode()
    assert "Log (staff only)" in staff


def test_a_worker_keeps_one_warm_grader_per_assignment_version(svc):
    from autograder.service import grading

    pool = grading.grader_pool()
    first = submission_id(upload(client_for(account("ada")), notebook_bytes(svc["course"])))
    run_queue()
    built = pool.built
    second = submission_id(upload(client_for(account("wrong-bob")), notebook_bytes(svc["course"])))
    run_queue()
    assert built >= 1 and pool.built == built and grading.grader_pool() is pool
    assert (_sub(first).score, _sub(second).score) == (2.0, 1.0)
