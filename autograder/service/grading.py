"""The grading job (``grade_submission``, a django-tasks task) and its work: one submission graded in a worker, through the library API (:func:`autograder.api.grade_batch`)
on the course's :class:`autograder.settings.Settings`.

A worker keeps one warm ``Grader`` per assignment version (:class:`autograder.api.GraderPool`:
its reference, its time-limit calibration and its sandbox, on the local backend the forkserver
that imported TensorFlow once, built on the first job), handed to every ``grade_batch`` call, whose
``refresh=False`` leaves out the batch outputs (exports, report) the service never reads. The
sandboxes are closed when the worker exits.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task

from autograder.api import GraderPool
from autograder.service.models import Submission

log = logging.getLogger("autograder.service")


@task(queue_name="grading")
def grade_submission(submission_id: str) -> str:
    """The grading job, on Django's Tasks framework (django-tasks, database backend): the web process
    only enqueues it (in the transaction that records the submission); a worker runs it."""
    return grade(submission_id)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
_pools: dict[str, GraderPool] = {}   # sandbox factory (settings.SANDBOX_FACTORY) -> this worker's pool
_lock = threading.Lock()


def grader_pool() -> GraderPool:
    """This worker's warm graders, on the configured sandbox factory."""
    with _lock:
        pool = _pools.get(settings.SANDBOX_FACTORY)
        if pool is None:
            pool = _pools[settings.SANDBOX_FACTORY] = GraderPool(import_string(settings.SANDBOX_FACTORY))
        return pool


@atexit.register
def close_sandboxes() -> None:
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        try:
            pool.close()
        except Exception:  # noqa: BLE001 - closing at exit: nothing left to tell
            log.exception("closing a sandbox")


def course_settings():
    from autograder.settings import Settings

    return Settings(jobs=1, layout="files", force=True, **settings.GRADING)


def claim(submission_id: str) -> Submission | None:
    """The submission, now running on this worker; None when another worker has it (or had it)."""
    with transaction.atomic():
        sub = Submission.objects.select_for_update().filter(pk=submission_id).first()
        if sub is None:
            return None
        if sub.state == Submission.State.QUEUED:
            sub.state = Submission.State.RUNNING
        elif not (_regrading(sub) and not sub.worker):   # a regrade: it stays GRADED (and counted) meanwhile
            return None
        sub.started, sub.worker = timezone.now(), WORKER_ID
        sub.attempts += 1
        sub.save(update_fields=["state", "started", "worker", "attempts"])
        return sub


def _regrading(sub: Submission) -> bool:
    return sub.state == Submission.State.GRADED and sub.regrade_pending


def grade(submission_id: str) -> str:
    """Grade one queued submission and store its result; returns its final state."""
    sub = claim(submission_id)
    if sub is None:
        return "claimed elsewhere"
    try:
        result, run_log = grade_file(sub.assignment.name, sub.student.username, sub.stored_path(), sub.filename,
                                     with_log=True)
    except Exception as exc:  # noqa: BLE001 - any failure of the grader is the submission's "failed" state
        log.exception("grading %s failed", sub.pk)
        # Only while this worker still holds the job, as for a result below.
        message = f"{type(exc).__name__}: {exc}"[:2000]
        # a failed regrade keeps the earlier result (and says why, to staff)
        failed = ({"regrade_pending": False, "worker": "", "message": message} if _regrading(sub) else
                  {"state": Submission.State.FAILED, "finished": timezone.now(), "message": message})
        if not _mine(sub).update(**failed):
            log.warning("submission %s: the lease expired while grading; this failure is dropped (lease lost)",
                        sub.pk)
            return "lease lost"
        _counted_score_changed(sub)
        return Submission.State.FAILED
    return _store(sub, result, run_log)


def _store(sub: Submission, result: dict, run_log: str) -> str:
    """A grading's result stored into the submission this worker holds; returns its state."""
    state = Submission.State.FAILED if result.get("status") == "error" else Submission.State.GRADED
    # Only while this worker still holds the job: after its lease expired the job is another's.
    if state == Submission.State.FAILED and _regrading(sub):   # a failed regrade keeps the earlier result
        stored = _mine(sub).update(regrade_pending=False, worker="", message=result.get("message", ""))
    else:
        stored = _mine(sub).update(state=state, finished=timezone.now(), result=result, log=run_log,
                                   score=result.get("score"), regrade_pending=False,
                                   max_score=result.get("max_score"),
                                   message=result.get("message", "") if state == "failed" else "")
    if not stored:
        log.warning("submission %s: the lease expired while grading; this result is dropped", sub.pk)
        return "lease lost"
    _counted_score_changed(sub)
    return state


def _counted_score_changed(sub: Submission) -> None:
    """The LMS gradebook told (LTI AGS, queued: never blocks or fails grading); with a late-day
    budget, the student's other assignments too (:func:`autograder.service.lti_services.student_changed`)."""
    from autograder.service.lti_services import grades_changed, student_changed

    try:
        student_changed(sub.assignment, sub.student)
    except Exception:  # noqa: BLE001 - a course.toml broken since start: this score at least (and the log)
        log.exception("submission %s: the course's policies could not be read", sub.pk)
        grades_changed(sub.assignment_id, sub.student_id)


def regrade_counted(assignment, on_dask: bool = False) -> list[str]:
    """Each student's counted submission of ``assignment`` queued again (on the same queue, a new
    job each; ``on_dask``: one job for them all, :func:`regrade_on_dask`); the result it had stays
    until the new one replaces it. Under a ``best`` or ``latest_before_due`` policy, every graded
    upload of the student is a candidate: each is graded again. Returns their ids."""
    from autograder.policies.model import Counts
    from autograder.service.policy import policy_of
    from autograder.service.results import counted

    every = policy_of(assignment).counts is not Counts.LATEST
    with transaction.atomic():
        mine: dict[int, list[Submission]] = {}
        for sub in Submission.objects.select_for_update().filter(assignment=assignment).defer("log"):
            mine.setdefault(sub.student_id, []).append(sub)
        ids = [best.pk for best in map(counted, mine.values()) if best is not None]
        if every:
            ids += [s.pk for subs in mine.values() for s in sorted(subs, key=lambda s: s.created)
                    if s.pk not in ids and s.state == Submission.State.GRADED and (s.result or {}).get("status") == "graded"]
        # still GRADED (and counted) until the worker stores the new result; a failed regrade keeps it
        Submission.objects.filter(pk__in=ids, state=Submission.State.GRADED).update(
            regrade_pending=True, worker="", attempts=0, reused_from=None)
        if on_dask and ids:
            regrade_on_dask_job.enqueue(assignment.name, [str(pk) for pk in ids])
        for pk in ids if not on_dask else []:
            grade_submission.enqueue(str(pk))
    return [str(pk) for pk in ids]


@task(queue_name="grading")
def regrade_on_dask_job(assignment_name: str, submission_ids: list[str]) -> str:
    """The regrade of many submissions as one job (on the same queue): a worker hands them to the
    Dask cluster (settings.DASK_ADDRESS) through the batch's runner."""
    return regrade_on_dask(assignment_name, submission_ids)


def regrade_counted_on_dask(assignment) -> list[str]:
    """As :func:`regrade_counted`, but one job for them all, graded on the Dask cluster."""
    return regrade_counted(assignment, on_dask=True)


def regrade_on_dask(assignment_name: str, submission_ids: list[str]) -> str:
    """The submissions claimed (each as :func:`claim` does), graded in one ``grade_batch`` on the Dask
    runner (:mod:`autograder.runs.cluster`: one task per notebook, results back as plain data, this
    worker the only writer), and each result stored as a lone job's is. A cluster that cannot be
    reached fails none of them: each keeps its earlier result, and staff see why."""
    from dataclasses import replace

    from autograder.api import grade_batch
    from autograder.assignments.course import find_assignment
    from autograder.files import safe_name

    subs = [sub for sub in map(claim, submission_ids) if sub is not None]
    if not subs:
        return "claimed elsewhere"
    scratch = Path(tempfile.mkdtemp(prefix="autograder-dask-"))
    by_name = {safe_name(sub.student.username): sub for sub in subs}
    try:
        assignment = find_assignment(assignment_name, settings.COURSE_ROOT)
        (scratch / "in").mkdir()
        for name, sub in by_name.items():
            shutil.copyfile(sub.stored_path(), scratch / "in" / f"{name}.ipynb")
        grading = replace(course_settings(), dask=settings.DASK_ADDRESS)
        report = grade_batch(assignment, [str(scratch / "in")], grading, out=scratch / "out",
                             grader=grader_pool().grader(assignment, grading), refresh=False)
        done = {}
        for result in report.results:
            sub = by_name[safe_name(result.student)]
            data = result.to_json()
            data["student"], data["submission"] = sub.student.username, sub.filename
            path = scratch / "out" / "logs" / assignment_name / f"{safe_name(result.student)}.log"
            run_log = path.read_text(encoding="utf-8", errors="replace")[:MAX_LOG_CHARS] if path.exists() else ""
            done[sub.pk] = _store(sub, data, run_log)
    except Exception as exc:  # noqa: BLE001 - the cluster or the batch failed: every earlier result stays
        log.exception("regrading %s on Dask failed", assignment_name)
        message = f"the regrade on the Dask cluster failed: {type(exc).__name__}: {exc}"[:2000]
        for sub in subs:
            _mine(sub).update(regrade_pending=False, worker="", message=message)
        return Submission.State.FAILED
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for sub in subs:   # a notebook the batch did not return (never expected): its earlier result stays
        if sub.pk not in done:
            _mine(sub).update(regrade_pending=False, worker="", message="the Dask regrade returned no result")
    return f"{sum(state == Submission.State.GRADED for state in done.values())} graded on Dask"


def _mine(sub: Submission):
    held = (Q(state=Submission.State.GRADED, regrade_pending=True) if _regrading(sub)
            else Q(state=Submission.State.RUNNING))
    return Submission.objects.filter(held, pk=sub.pk, worker=WORKER_ID, attempts=sub.attempts)


def requeue_expired() -> list[str]:
    """Jobs whose worker died (running past the lease): queued again, or failed after
    ``MAX_ATTEMPTS`` tries (a notebook that kills its worker each time). Returns their ids."""
    from datetime import timedelta

    cutoff = timezone.now() - timedelta(seconds=settings.LEASE_S)
    done = []
    with transaction.atomic():
        running = Q(state=Submission.State.RUNNING) | Q(state=Submission.State.GRADED, regrade_pending=True,
                                                          worker__gt="")
        stale = Submission.objects.select_for_update(skip_locked=True).filter(running, started__lt=cutoff)
        for sub in stale.defer("log"):
            if _regrading(sub):   # a regrade whose worker died: tried again, or dropped (the result stays)
                sub.worker = ""
                sub.regrade_pending = sub.attempts < settings.MAX_ATTEMPTS
                sub.save(update_fields=["worker", "regrade_pending"])
                if sub.regrade_pending:
                    grade_submission.enqueue(str(sub.pk))
            elif sub.attempts >= settings.MAX_ATTEMPTS:
                sub.state, sub.finished = Submission.State.FAILED, timezone.now()
                sub.message = f"no worker finished it in {sub.attempts} tries (each worker died or hung)"
                sub.save(update_fields=["state", "finished", "message"])
            else:
                log.warning("submission %s: worker %s did not finish it in time; queued again", sub.pk, sub.worker)
                sub.state, sub.worker = Submission.State.QUEUED, ""
                sub.save(update_fields=["state", "worker"])
                grade_submission.enqueue(str(sub.pk))
            done.append(str(sub.pk))
    return done + _enqueue_orphans(cutoff)


def _enqueue_orphans(cutoff) -> list[str]:
    """Submissions waiting (queued, or a regrade not yet taken) for longer than the lease with no
    ready or running job (the database dropped between a job's pickup and its claim): enqueued
    again. Returns their ids."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    done = []
    with transaction.atomic():
        waiting = Q(state=Submission.State.QUEUED) | Q(state=Submission.State.GRADED, regrade_pending=True, worker="")
        subs = list(Submission.objects.select_for_update(skip_locked=True).filter(waiting, created__lt=cutoff)
                    .only("pk"))
        if not subs:
            return done
        jobs = DBTaskResult.objects.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
                                           task_path__in=[grade_submission.module_path,
                                                          regrade_on_dask_job.module_path])
        pending = set()
        for job in jobs.only("args_kwargs", "task_path"):
            args = job.args_kwargs.get("args") or [None, []]
            if job.task_path == regrade_on_dask_job.module_path:   # (assignment, [submission ids])
                pending.update(map(str, args[1]))
            else:
                pending.add(str(args[0]))
        for sub in subs:
            if str(sub.pk) not in pending:
                log.warning("submission %s: waiting with no job (lost); queued again", sub.pk)
                grade_submission.enqueue(str(sub.pk))
                done.append(str(sub.pk))
    return done


def heartbeat(backend: str = "") -> None:
    from autograder.service.models import WorkerBeat

    WorkerBeat.objects.update_or_create(worker=WORKER_ID[:100], defaults={"last_seen": timezone.now(),
                                                                          "backend": backend[:20]})


def keep_alive(stop: threading.Event, backend: str = "", every_s: float = 10.0) -> None:
    """A worker's side thread, every few seconds: its heartbeat, expired leases requeued, and the
    LMS scores withheld until a due date whose date has now passed sent again
    (:func:`autograder.service.lti_services.release_withheld`)."""
    from django.db import connection

    from autograder.service.lti_services import release_withheld

    while True:
        try:
            heartbeat(backend)
            requeue_expired()
            release_withheld()
        except Exception:  # noqa: BLE001 - the database restarting: try again at the next beat
            log.exception("heartbeat")
        finally:
            connection.close()
        if stop.wait(every_s):
            return


MAX_LOG_CHARS = 200_000


def grade_file(assignment_name: str, student: str, path: Path, filename: str, with_log: bool = False):
    """One notebook graded by the library API in a scratch folder; the result's JSON form (and,
    ``with_log``, the run's instructor-only log, at most ``MAX_LOG_CHARS``)."""
    from autograder.api import grade_batch
    from autograder.assignments.course import find_assignment
    from autograder.files import safe_name

    assignment = find_assignment(assignment_name, settings.COURSE_ROOT)
    scratch = Path(tempfile.mkdtemp(prefix="autograder-job-"))
    try:
        (scratch / "in").mkdir()
        notebook = scratch / "in" / f"{safe_name(student)}.ipynb"
        shutil.copyfile(path, notebook)
        grading = course_settings()
        report = grade_batch(assignment, [str(scratch / "in")], grading, out=scratch / "out",
                             grader=grader_pool().grader(assignment, grading), refresh=False)
        [result] = report.results
        data = result.to_json()
        data["student"], data["submission"] = student, filename
        if not with_log:
            return data
        logs = sorted((scratch / "out" / "logs").rglob("*.log"))
        text = logs[0].read_text(encoding="utf-8", errors="replace") if logs else ""
        if len(text) > MAX_LOG_CHARS:
            text = text[:MAX_LOG_CHARS] + f"\n[... {len(text) - MAX_LOG_CHARS:,} more characters not kept]"
        return data, text
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
