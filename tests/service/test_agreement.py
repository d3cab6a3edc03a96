"""The service and `autograder grade` agree: the same notebooks graded through the service's queue
and as one batch give the same status, score and check outcomes per student. And PostgreSQL
restarting between an upload and its grading loses nothing."""

from __future__ import annotations

import os

import pytest

from tests.service.helpers import NAME, account, client_for, notebook_bytes, run_queue, submission_id, upload


def test_the_service_and_a_batch_agree(svc, tmp_path):
    from autograder.api import grade_batch
    from autograder.assignments.course import find_assignment
    from autograder.gradebook import Gradebook
    from autograder.service.models import Submission
    from autograder.settings import Settings
    from tests.service.fakes import fake_sandbox

    folder = tmp_path / "download"
    folder.mkdir()
    for who in ("ada", "wrong-bob", "emma"):
        data = notebook_bytes(svc["course"], wrong_by=who)
        (folder / f"{who}.ipynb").write_bytes(data)
        upload(client_for(account(who)), data)
    run_queue()
    report = grade_batch(find_assignment(NAME, svc["course"]), [str(folder)], Settings(layout="files"),
                         out=tmp_path / "out", sandbox=fake_sandbox)
    batch = {r["student"]: (r["status"], r["score"], r["max_score"], [(c["id"], c["passed"]) for c in r["checks"]])
             for r in Gradebook(report.gradebook).results(NAME)}
    service = {s.student.username: (s.result["status"], s.score, s.max_score,
                                    [(c["id"], c["passed"]) for c in s.result["checks"]])
               for s in Submission.objects.select_related("student")}
    assert service == batch and len(batch) == 3


@pytest.mark.skipif(os.environ.get("AUTOGRADER_TEST_DB", "postgresql") != "postgresql", reason="PostgreSQL run")
def test_postgresql_restarting_loses_nothing(svc):
    from django.db import close_old_connections

    from autograder.service.models import Submission

    client = client_for(account("ada"))
    first = submission_id(upload(client, notebook_bytes(svc["course"])))
    svc["cluster"].restart()
    # What each request of a real server and each turn of a worker's loop does first (Django's test
    # client leaves it out): a connection the restart closed is noticed and opened again.
    close_old_connections()
    second = submission_id(upload(client, notebook_bytes(svc["course"], wrong_by="x")))
    assert run_queue() == 2
    assert {s.pk.hex for s in Submission.objects.filter(state="graded")} == {first.replace("-", ""),
                                                                              second.replace("-", "")}
