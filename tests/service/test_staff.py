"""The staff pages' actions: per-exercise pass rates, a regrade of an assignment (its counted
submissions queued again on the same queue, graded once more), and overrides with a reason (the
gradebook's rule: the override is the final score, a regrade keeps it). Who may do each is in
test_access.py's table; here, what they do."""

from __future__ import annotations

from tests.service.helpers import NAME, account, client_for, notebook_bytes, run_queue, submission_id, upload


def _graded_class(svc) -> dict:
    subs = {}
    for who in ("ada", "wrong-bob", "emma"):
        subs[who] = submission_id(upload(client_for(account(who)), notebook_bytes(svc["course"])))
    run_queue()
    return subs


def test_pass_rates_per_exercise_from_the_counted_results(svc):
    from autograder.service.models import Submission
    from autograder.service.results import pass_rates

    _graded_class(svc)
    results = [s.result for s in Submission.objects.all()]
    assert pass_rates(results) == [{"exercise": "scale", "passed": 2, "total": 3, "percent": 67}]
    page = client_for(account("tina", "ta")).get(f"/staff/a/{NAME}/").content.decode()
    rates = page.split('id="pass-rates"')[1].split("</table>")[0]
    assert "<td>scale</td><td>2 / 3</td><td>67%</td>" in rates
    # a TA sees the rates, but neither the regrade button nor the override form
    assert 'id="regrade"' not in page and 'id="override"' not in page
    prof = client_for(account("prof", "instructor")).get(f"/staff/a/{NAME}/").content.decode()
    assert 'id="regrade"' in prof and 'id="override"' in prof and prof.count("csrfmiddlewaretoken") >= 3


def test_a_regrade_queues_each_counted_submission_again_and_grades_it_once_more(svc):
    from django_tasks_db.models import DBTaskResult

    from autograder.service.models import Submission

    subs = _graded_class(svc)
    client = client_for(account("ada"))
    older = subs["ada"]
    latest = submission_id(upload(client, notebook_bytes(svc["course"], wrong_by="again")))
    run_queue()
    prof = client_for(account("prof", "instructor"))
    response = prof.post(f"/staff/a/{NAME}/regrade/")
    assert response.status_code == 302 and response["Location"].endswith("?regraded=3")
    # the counted ones only, still graded (and counted) until the new result is stored
    queued = set(Submission.objects.filter(regrade_pending=True, state="graded").values_list("pk", flat=True))
    assert {str(pk) for pk in queued} == {latest, subs["wrong-bob"], subs["emma"]}
    assert Submission.objects.get(pk=older).state == "graded" and not Submission.objects.get(pk=older).regrade_pending
    assert "3 counted submissions queued" in prof.get(response["Location"]).content.decode()
    assert run_queue() == 3 and DBTaskResult.objects.count() == 4 + 3
    for pk in queued:
        sub = Submission.objects.get(pk=pk)
        assert sub.state == "graded" and sub.attempts == 1 and sub.result["status"] == "graded"
        assert not sub.regrade_pending
    assert Submission.objects.get(pk=subs["wrong-bob"]).score == 1.0


def test_an_override_with_its_reason_is_the_final_score_and_survives_a_regrade(svc):
    from autograder.gradebook import with_override
    from autograder.service.models import Override, Submission

    subs = _graded_class(svc)
    prof = client_for(account("prof", "instructor"))
    url = f"/staff/a/{NAME}/override/"
    # refused, nothing stored: no reason, not a number, no such student
    for data, words in (({"student": "wrong-bob", "score": "2"}, "needs its reason"),
                        ({"student": "wrong-bob", "score": "two", "reason": "x"}, "is not a score"),
                        ({"student": "nobody", "score": "2", "reason": "x"}, "No such student")):
        response = prof.post(url, data)
        assert response.status_code == 400 and words in response.content.decode()
    assert not Override.objects.exists()
    assert prof.post(url, {"student": "wrong-bob", "score": "2", "reason": "appeal: right idea"}).status_code == 302
    override = Override.objects.get()
    assert (override.student.username, override.score, override.by.username) == ("wrong-bob", 2.0, "prof")
    bob = Submission.objects.get(pk=subs["wrong-bob"])
    assert with_override(bob.result, override.as_gradebook())["final_score"] == 2.0 and bob.score == 1.0
    page = prof.get(f"/staff/a/{NAME}/").content.decode()
    row = page.split("<td>wrong-bob</td>")[1].split("</tr>")[0]
    assert ">1 / 2</a>" in row and '<td class="final">2 <span class="tag"' in row and "appeal: right idea" in row
    prof.post(f"/staff/a/{NAME}/regrade/")
    run_queue()
    assert Override.objects.get().score == 2.0 and '<td class="final">2 <span' in \
        prof.get(f"/staff/a/{NAME}/").content.decode().split("<td>wrong-bob</td>")[1]
    # an empty score clears it: the counted score is final again
    assert prof.post(url, {"student": "wrong-bob", "score": ""}).status_code == 302 and not Override.objects.exists()
    row = prof.get(f"/staff/a/{NAME}/").content.decode().split("<td>wrong-bob</td>")[1].split("</tr>")[0]
    assert '<td class="final">1</td>' in row


def test_the_staff_forms_need_their_csrf_token(svc):
    from django.test import Client

    _graded_class(svc)
    prof = Client(enforce_csrf_checks=True)
    prof.force_login(account("prof", "instructor"))
    for action, data in (("regrade", {}), ("override", {"student": "ada", "score": "0", "reason": "x"}),
                         ("publish", {"published": "1"})):
        assert prof.post(f"/staff/a/{NAME}/{action}/", data).status_code == 403


def test_the_exports_download_the_counted_results_with_overrides(svc):
    import csv
    import io
    import zipfile

    from autograder.outputs.feedback import feedback_html

    subs = _graded_class(svc)
    prof = client_for(account("prof", "instructor"))
    prof.post(f"/staff/a/{NAME}/override/", {"student": "emma", "score": "0.5", "reason": "late, by the syllabus"})
    ta = client_for(account("tina", "ta"))
    grades = ta.get(f"/staff/a/{NAME}/export/grades.csv")
    assert grades.status_code == 200 and grades["Content-Type"].startswith("text/csv")
    assert grades["Content-Disposition"] == f'attachment; filename="{NAME}-grades.csv"'
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(grades.content.decode()))}
    assert {k: (r["score"], r["automatic_score"], r["override_reason"]) for k, r in rows.items()} == {
        "ada": ("2", "2", ""), "emma": ("0.5", "2", "late, by the syllabus"), "wrong-bob": ("1", "1", "")}
    checks = list(csv.DictReader(io.StringIO(ta.get(f"/staff/a/{NAME}/export/checks.csv").content.decode())))
    assert len(checks) == 3 * 2 and {(c["student"], c["passed"]) for c in checks if c["hidden"] == "False"} == {
        ("ada", "True"), ("emma", "True"), ("wrong-bob", "False")}
    archive = zipfile.ZipFile(io.BytesIO(ta.get(f"/staff/a/{NAME}/export/feedback.zip").content))
    assert sorted(archive.namelist()) == ["ada/feedback.html", "emma/feedback.html", "wrong-bob/feedback.html"]
    from autograder.service.models import Submission

    bob = Submission.objects.get(pk=subs["wrong-bob"]).result
    page = archive.read("wrong-bob/feedback.html").decode()
    assert page.count("<li") == feedback_html(bob).count("<li") and "feedback for" in page
    assert ta.get(f"/staff/a/{NAME}/export/secrets.txt").status_code == 404
