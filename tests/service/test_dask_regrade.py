"""A regrade from the staff page on a Dask cluster (AUTOGRADER_DASK): one job on the service's queue, whose
worker hands the counted submissions to the batch's Dask runner (autograder/runs/cluster.py), one task per
notebook, and stores each result as a lone job's. A local cluster of one in-process worker, the fake
sandbox on both sides: the Dask worker's sandbox also finds emma's answer wrong, so what is stored can
only have come from the cluster."""

from __future__ import annotations

import pytest

from tests import fakes
from tests.service.helpers import NAME, account, client_for, notebook_bytes, run_queue, submission_id, upload

distributed = pytest.importorskip("distributed")


@pytest.fixture
def dask_cluster(monkeypatch):
    from autograder.runs import cluster

    on_workers = []

    def sandbox_for(spec):
        from tests.service.fakes import fake_sandbox

        box = fake_sandbox(spec.settings)
        box.answers = {"emma": {fakes.PUBLIC: fakes.WRONG}, "wrong-bob": {fakes.PUBLIC: fakes.WRONG}}
        on_workers.append(box)
        return box

    monkeypatch.setattr(cluster, "sandbox_for", sandbox_for)
    cluster._GRADERS.clear()
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as lc:
        yield {"address": lc.scheduler_address, "sandboxes": on_workers}
    cluster._GRADERS.clear()


def test_a_regrade_on_dask_is_one_job_and_stores_what_the_cluster_graded(svc, dask_cluster):
    from django.test import override_settings
    from django_tasks_db.models import DBTaskResult

    from autograder.service import grading
    from autograder.service.models import Submission

    subs = {who: submission_id(upload(client_for(account(who)), notebook_bytes(svc["course"])))
            for who in ("ada", "wrong-bob", "emma")}
    run_queue()
    assert Submission.objects.get(pk=subs["emma"]).score == 2.0
    prof = client_for(account("prof", "instructor"))
    assert 'id="regrade-dask"' not in prof.get(f"/staff/a/{NAME}/").content.decode()
    refused = prof.post(f"/staff/a/{NAME}/regrade/", {"on": "dask"})   # no cluster set: nothing queued
    assert refused.status_code == 400 and "AUTOGRADER_DASK" in refused.content.decode()
    assert not Submission.objects.filter(regrade_pending=True).exists()

    with override_settings(DASK_ADDRESS=dask_cluster["address"], LEASE_S=0):
        assert 'id="regrade-dask"' in prof.get(f"/staff/a/{NAME}/").content.decode()
        response = prof.post(f"/staff/a/{NAME}/regrade/", {"on": "dask"})
        assert response.status_code == 302 and response["Location"].endswith("?regraded=3")
        assert DBTaskResult.objects.count() == 3 + 1                      # one job for the three
        assert set(Submission.objects.filter(regrade_pending=True, state="graded").values_list("pk", flat=True)
                   ) == {Submission.objects.get(pk=pk).pk for pk in subs.values()}
        assert grading.requeue_expired() == []   # waiting on the Dask job: not taken for lost
        assert run_queue() == 1
    for who, score in (("ada", 2.0), ("wrong-bob", 1.0), ("emma", 1.0)):
        sub = Submission.objects.get(pk=subs[who])
        assert (sub.state, sub.score, sub.regrade_pending, sub.attempts) == ("graded", score, False, 1), who
        assert sub.result["student"] == who and sub.result["submission"] == f"{NAME}.ipynb"
    jobs = [job.label for box in dask_cluster["sandboxes"] for job in box.jobs]
    assert sorted(set(jobs)) == ["ada", "emma", "wrong-bob"]           # graded on the cluster; no solution run there


def test_a_dask_regrade_whose_cluster_is_gone_keeps_every_result(svc, monkeypatch):
    from django.test import override_settings

    from autograder.runs import cluster
    from autograder.service.models import Submission

    monkeypatch.setattr(cluster, "CONNECT_S", 1)

    pk = submission_id(upload(client_for(account("ada")), notebook_bytes(svc["course"])))
    run_queue()
    prof = client_for(account("prof", "instructor"))
    with override_settings(DASK_ADDRESS="tcp://127.0.0.1:9"):      # nothing listens there
        assert prof.post(f"/staff/a/{NAME}/regrade/", {"on": "dask"}).status_code == 302
        assert run_queue() == 1
    sub = Submission.objects.get(pk=pk)
    assert (sub.state, sub.score, sub.regrade_pending) == ("graded", 2.0, False)
    assert "the regrade on the Dask cluster failed" in sub.message and "no Dask scheduler" in sub.message
