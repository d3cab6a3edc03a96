"""The two commands as users run them: ``autograder serve`` (one command: the embedded SQLite
default, its own grading worker process, the roster's sign-in links printed) driven over HTTP, and
``autograder worker`` taking a job from PostgreSQL. Both grade on the fake sandbox."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

import pytest

from tests.conftest import ROOT, processes_with
from tests.service.helpers import (NAME, account, client_for, notebook_bytes, start_serve, stop_serve, submission_id,
                                   upload)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(svc, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update({k: v for k, v in svc["env"].items() if k not in ("DATABASE_URL", "AUTOGRADER_SERVICE_HOME")})
    env.update(PYTHONPATH=str(ROOT), AUTOGRADER_CACHE=str(svc["root"] / "cache"), **extra)
    return env


def _token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def _multipart(fields: dict, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="notebook"; filename="{filename}"\r\n'
                 f'Content-Type: application/x-ipynb+json\r\n\r\n'.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.slow
def test_serve_is_one_command_web_and_worker_on_sqlite(svc, tmp_path):
    port = _free_port()
    (tmp_path / "roster.csv").write_text("id,name,role\nada,Ada Lovelace,student\nprof,Prof,instructor\n")
    home = tmp_path / "home"
    proc, said = start_serve(["--port", port, "--workers", "1", "--course", svc["course"], "--import-roster",
                              tmp_path / "roster.csv"], _env(svc, AUTOGRADER_SERVICE_HOME=str(home)))
    try:
        assert f"assignment added: {NAME}" in said and "2 accounts" in said, said
        link = re.search(r"ada\tstudent\t(\S+)", said).group(1)
        assert (home / "service.sqlite3").exists()
        base = f"http://127.0.0.1:{port}"
        link = link.replace(f"http://localhost:{port}", base)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        for _ in range(50):
            try:
                page = opener.open(link).read().decode()
                break
            except OSError:
                time.sleep(0.1)
        opener.open(urllib.request.Request(link, data=f"csrfmiddlewaretoken={_token(page)}".encode()))
        page = opener.open(f"{base}/a/{NAME}/").read().decode()
        body, kind = _multipart({"csrfmiddlewaretoken": _token(page)}, f"{NAME}.ipynb", notebook_bytes(svc["course"]))
        answer = opener.open(urllib.request.Request(f"{base}/a/{NAME}/submit/", data=body,
                                                    headers={"Content-Type": kind}))
        pk = re.search(r"/s/([0-9a-f-]{36})/", answer.geturl()).group(1)
        assert "Submission received" in answer.read().decode()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            state = opener.open(f"{base}/s/{pk}/state/").read().decode()
            if 'data-state="graded"' in state:
                break
            time.sleep(0.3)
        assert 'data-state="graded"' in state and "1 / 1" in state, state
        css = opener.open(f"{base}/static/service/app.css")
        assert css.status == 200 and opener.open(f"{base}/static/admin/css/base.css").status == 200
    finally:
        assert stop_serve(proc), "serve did not stop on SIGINT within 30 s"
    time.sleep(0.5)
    assert not processes_with(b"autograder", b"worker", str(home).encode()), "a worker outlived serve"


@pytest.mark.skipif(os.environ.get("AUTOGRADER_TEST_DB", "postgresql") != "postgresql", reason="PostgreSQL run")
def test_a_worker_process_takes_the_job_from_postgresql(svc):
    from autograder.service.models import Submission

    pk = submission_id(upload(client_for(account("wrong-bob")), notebook_bytes(svc["course"])))
    done = subprocess.run([sys.executable, "-m", "autograder", "worker", "--batch", "--course", str(svc["course"])],
                          cwd=ROOT, env=_env(svc, DATABASE_URL=svc["env"]["DATABASE_URL"],
                                             AUTOGRADER_SERVICE_HOME=svc["env"]["AUTOGRADER_SERVICE_HOME"]),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    sub = Submission.objects.get(pk=pk)
    assert sub.state == "graded" and (sub.score, sub.max_score) == (1.0, 2.0) and sub.worker != "test-worker"


@pytest.mark.skipif(os.environ.get("AUTOGRADER_TEST_DB", "postgresql") != "postgresql", reason="PostgreSQL run")
def test_serve_on_postgresql_holds_at_most_a_connection_per_thread_of_its_pool(svc, tmp_path):
    """``serve``'s connections to the database are its pool's threads' (service/webserver.py).
    With a thread per request, each request in flight held a connection of its own, and a class
    polling its submission pages ran PostgreSQL out of connections ("too many clients", then
    500s). 80 students' pages at once: every one answered, and never more connections than
    threads (sampled while they are answered)."""
    import psycopg

    from autograder.service.webserver import THREADS

    url, students = svc["env"]["DATABASE_URL"], [f"p{i:02d}" for i in range(80)]
    (tmp_path / "roster.csv").write_text("id,role\n" + "".join(f"{s},student\n" for s in students))
    port = _free_port()
    env = _env(svc, DATABASE_URL=url, AUTOGRADER_SERVICE_HOME=str(tmp_path / "home"))
    web, said = _start_serve(svc, env, port, "--import-roster", str(tmp_path / "roster.csv"))
    try:
        base = f"http://127.0.0.1:{port}"
        openers = []
        for s in students:
            link = re.search(rf"{s}\tstudent\t(\S+)", said).group(1).replace(f"http://localhost:{port}", base)
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
            page = _open_with_retry(opener, link).read().decode()
            opener.open(urllib.request.Request(link, data=f"csrfmiddlewaretoken={_token(page)}".encode()))
            openers.append(opener)
        answers, peak, done = [], [0], threading.Event()
        with psycopg.connect(url) as db:
            ours = db.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                              "AND pid <> pg_backend_pid()").fetchone()[0]   # this test process's (and serve's idle)

            def sample() -> None:
                while not done.is_set():
                    n = db.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                   "AND pid <> pg_backend_pid()").fetchone()[0]
                    peak[0] = max(peak[0], n)

            start = threading.Barrier(len(openers) + 1)

            def student(opener) -> None:
                start.wait()
                for _ in range(3):   # each page reads the session and the student from the database
                    try:
                        answers.append(opener.open(f"{base}/a/{NAME}/", timeout=60).status)
                    except OSError as exc:   # a 500 (HTTPError) or a refused connection
                        answers.append(str(exc))

            sampler = threading.Thread(target=sample)
            sampler.start()
            threads = [threading.Thread(target=student, args=(o,)) for o in openers]
            for t in threads:
                t.start()
            start.wait()
            for t in threads:
                t.join(120)
            done.set()
            sampler.join()
        failed = [a for a in answers if a != 200]
        assert len(answers) == 3 * len(openers) and not failed, f"{len(failed)} failed, e.g. {failed[:3]}"
        assert peak[0] <= ours + THREADS, f"{peak[0]} connections at once ({ours} before the burst)"
    finally:
        stop_serve(web)


def test_the_production_settings_pass_djangos_deploy_check(svc, tmp_path):
    env = _env(svc, AUTOGRADER_SERVICE_HOME=str(tmp_path / "home"), AUTOGRADER_HTTPS="1",
               AUTOGRADER_ALLOWED_HOSTS="grader.example.edu", DJANGO_SETTINGS_MODULE="autograder.service.settings",
               AUTOGRADER_SECRET_KEY="k" * 20 + "-a-long-random-production-key-" + "z" * 20)
    done = subprocess.run([sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "no issues" in done.stdout, done.stdout + done.stderr


def test_serve_and_worker_are_commands_and_say_what_they_need(run_cli):
    for command in ("serve", "worker"):
        help_text = run_cli(command, "--help", timeout=60)
        assert help_text.returncode == 0 and "--backend" in help_text.stdout
    assert "serve" in run_cli("--help", timeout=60).stdout


def test_serve_starts_a_grading_worker_per_core_at_most_four(monkeypatch):
    """The README's "a grading worker per core": serve's default, as grade's --jobs, capped (each
    worker holds TensorFlow); --workers N is taken as given, and a negative count refused."""
    from autograder import cli

    asked = []

    class Service:
        def serve(self, args):
            asked.append(args.workers)
            return 0

    monkeypatch.setattr(cli, "_service", Service)
    for cores, given, expected in ((2, [], 2), (16, [], 4), (1, [], 1), (16, ["--workers", "0"], 0),
                                   (2, ["--workers", "6"], 6)):
        monkeypatch.setattr(cli, "_cores", lambda cores=cores: cores)
        assert cli.main(["serve", *given]) == 0
        assert asked.pop() == expected, (cores, given)
    assert cli.main(["serve", "--workers", "-1"]) == 2 and not asked


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("AUTOGRADER_TEST_DB", "postgresql") != "postgresql", reason="PostgreSQL run")
def test_a_worker_killed_while_grading_leaves_its_job_to_another_graded_once(svc, tmp_path):
    from autograder.service.models import Submission

    hang = tmp_path / "hang"
    hang.touch()
    pk = submission_id(upload(client_for(account("hang-hal")), notebook_bytes(svc["course"])))
    env = _env(svc, DATABASE_URL=svc["env"]["DATABASE_URL"], AUTOGRADER_SERVICE_HOME=svc["env"]["AUTOGRADER_SERVICE_HOME"],
               AUTOGRADER_TEST_HANG=str(hang), AUTOGRADER_LEASE_S="3")
    first = subprocess.Popen([sys.executable, "-m", "autograder", "worker", "--course", str(svc["course"])],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while Submission.objects.get(pk=pk).state != "running" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert Submission.objects.get(pk=pk).state == "running"
        time.sleep(0.5)   # inside the fake sandbox, waiting
    finally:
        first.kill()      # SIGKILL mid-grade
        first.wait()
    hang.unlink()
    second = subprocess.Popen([sys.executable, "-m", "autograder", "worker", "--course", str(svc["course"])],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while Submission.objects.get(pk=pk).state != "graded" and time.monotonic() < deadline:
            time.sleep(0.3)
    finally:
        second.terminate()
        second.wait(30)
    sub = Submission.objects.get(pk=pk)
    assert sub.state == "graded" and sub.attempts == 2 and (sub.score, sub.max_score) == (2.0, 2.0)
    assert Submission.objects.count() == 1


def _start_serve(svc, env: dict, port: int, *extra: str) -> tuple[subprocess.Popen, str]:
    """``autograder serve`` on the test course, the web server only (``--workers 0``)."""
    return start_serve(["--port", port, "--workers", "0", "--course", svc["course"], *extra], env)


def _open_with_retry(opener, request, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while True:
        try:
            return opener.open(request)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.slow
def test_the_web_server_killed_during_a_burst_of_uploads_loses_no_received_one(svc, tmp_path):
    """SIGKILL of the web server (``serve``'s own process: its WSGI server) while students upload:
    every upload that got its "received" page is, after a restart, graded exactly once; nothing
    stored is left ungraded."""
    import sqlite3

    students, per_student = [f"s{i}" for i in range(6)], 12
    (tmp_path / "roster.csv").write_text("id,role\n" + "".join(f"{s},student\n" for s in students))
    home = tmp_path / "home"
    env = _env(svc, AUTOGRADER_SERVICE_HOME=str(home), AUTOGRADER_RATE_PER_HOUR="1000")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    web, said = _start_serve(svc, env, port, "--import-roster", str(tmp_path / "roster.csv"))
    restarted = None
    try:
        openers = {}
        for s in students:   # each signs in through their one-time link
            link = re.search(rf"{s}\tstudent\t(\S+)", said).group(1).replace(f"http://localhost:{port}", base)
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
            page = _open_with_retry(opener, link).read().decode()
            opener.open(urllib.request.Request(link, data=f"csrfmiddlewaretoken={_token(page)}".encode()))
            openers[s] = (opener, _token(opener.open(f"{base}/a/{NAME}/").read().decode()))
        received, refused, lock = [], [], threading.Lock()

        def burst(s: str) -> None:
            opener, token = openers[s]
            for i in range(per_student):
                body, kind = _multipart({"csrfmiddlewaretoken": token}, f"{NAME}.ipynb",
                                        notebook_bytes(svc["course"], wrong_by=f"{s}-{i}"))
                try:
                    answer = opener.open(urllib.request.Request(f"{base}/a/{NAME}/submit/", data=body,
                                                                headers={"Content-Type": kind}), timeout=30)
                    page = answer.read().decode()
                except OSError:   # the server died under this request, or is dead: no answer, no promise
                    page = ""
                if "Submission received" not in page:   # (or died after its redirect: a page cut short)
                    with lock:
                        refused.append(s)
                    return
                with lock:
                    received.append(re.search(r"/s/([0-9a-f-]{36})/", answer.geturl()).group(1))

        threads = [threading.Thread(target=burst, args=(s,)) for s in students]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(received) < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(web.pid, signal.SIGKILL)   # mid-burst: requests in flight die with it
        web.wait(10)
        for t in threads:
            t.join(60)
        assert 10 <= len(received) < len(students) * per_student and refused, (len(received), len(refused))

        restarted, _ = _start_serve(svc, env, port)
        for s in students[:2]:   # the sessions outlived the server: uploading works again
            opener, token = openers[s]
            body, kind = _multipart({"csrfmiddlewaretoken": token}, f"{NAME}.ipynb",
                                    notebook_bytes(svc["course"], wrong_by=f"{s}-after"))
            answer = _open_with_retry(opener, urllib.request.Request(f"{base}/a/{NAME}/submit/", data=body,
                                                                     headers={"Content-Type": kind}))
            assert "Submission received" in answer.read().decode()
            received.append(re.search(r"/s/([0-9a-f-]{36})/", answer.geturl()).group(1))
        done = subprocess.run([sys.executable, "-m", "autograder", "worker", "--batch", "--course", str(svc["course"])],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        for proc in (web, restarted):
            if proc is not None:
                stop_serve(proc)
    with sqlite3.connect(home / "service.sqlite3") as db:
        rows = {pk.replace("-", ""): (state, attempts) for pk, state, attempts in
                db.execute("SELECT id, state, attempts FROM service_submission")}
        tasks = [json.loads(args)["args"][0].replace("-", "") for args, in
                 db.execute("SELECT args_kwargs FROM django_tasks_database_dbtaskresult WHERE status = 'SUCCESSFUL'")]
        unfinished = db.execute("SELECT count(*) FROM django_tasks_database_dbtaskresult "
                                "WHERE status != 'SUCCESSFUL'").fetchone()[0]
    received = [pk.replace("-", "") for pk in received]
    print(f"burst: {len(received)} received, {len(rows)} stored, {len(refused)} cut off")
    assert len(set(received)) == len(received) and set(received) <= set(rows)
    # every stored submission (each "received" one, and any the kill cut off after its commit) graded once
    assert all(rows[pk] == ("graded", 1) for pk in rows), {pk: v for pk, v in rows.items() if v != ("graded", 1)}
    assert sorted(tasks) == sorted(rows) and unfinished == 0
