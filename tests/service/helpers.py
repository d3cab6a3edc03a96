"""What the service's tests share: accounts, clients, uploads, running the queue in-process, and
``autograder serve`` as a process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from tests.conftest import ROOT


def start_serve(args: list, env: dict) -> tuple[subprocess.Popen, str]:
    """``autograder serve ARGS`` in a process group of its own, started; what it said up to
    "serving on" (the rest is drained by a thread, so it never blocks on a full pipe)."""
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "serve", *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("serving on"):
            break
    assert proc.poll() is None, "".join(lines)
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return proc, "".join(lines)


def stop_serve(proc: subprocess.Popen, wait_s: float = 30) -> bool:
    """Ctrl-C's SIGINT (serve stops its workers, then exits); its whole group killed when it is not
    gone within ``wait_s``. Whether it stopped by itself."""
    if proc.poll() is not None:
        return True
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(wait_s)
        return True
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return False


def clean() -> None:
    from django.contrib.auth import get_user_model
    from django_tasks_db.models import DBTaskResult

    from autograder.service.models import Assignment, LmsRoster, Override, SignInLink, Submission, WorkerBeat

    LmsRoster.objects.all().delete()
    Override.objects.all().delete()
    Submission.objects.all().delete()
    SignInLink.objects.all().delete()
    get_user_model().objects.all().delete()
    DBTaskResult.objects.all().delete()
    WorkerBeat.objects.all().delete()
    Assignment.objects.update(published=False, open=True, due=None,
                              hidden_results=Assignment.Hidden.WHEN_PUBLISHED)


NAME = "04_scale"


def account(username: str, role: str = "student"):
    from autograder.service.accounts import ensure_account

    user, _ = ensure_account(username, username.title(), role=role)
    return user


def client_for(user=None, csrf: bool = False):
    from django.test import Client

    c = Client(enforce_csrf_checks=csrf)
    if user is not None:
        c.force_login(user)
    return c


def notebook_bytes(course: Path, wrong_by: str = "") -> bytes:
    """The solution notebook (the fake sandbox's answers depend on the student, not the file);
    ``wrong_by`` changes its bytes (another sha256)."""
    text = (course / "solutions" / NAME / f"{NAME}.ipynb").read_text()
    return (text + ("\n" + " " * len(wrong_by) if wrong_by else "")).encode()


def upload(client, data: bytes, filename: str = f"{NAME}.ipynb", name: str = NAME):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(f"/a/{name}/submit/", {"notebook": SimpleUploadedFile(filename, data)})


def run_queue() -> int:
    """Run every queued job in this process, as `autograder worker --batch` would; how many ran."""
    from django_tasks_db.management.commands.db_worker import Worker

    w = Worker(queue_names=["grading"], interval=0, batch=True, backend_name="default", startup_delay=False,
               max_tasks=None, worker_id="test-worker", excluded_queue_names=[])
    w.run()
    return w._run_tasks


def submission_id(response) -> str:
    match = re.search(r"/s/([0-9a-f-]{36})/", response["Location"])
    assert match, response["Location"]
    return match.group(1)


