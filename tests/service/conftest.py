"""The service's test setup: Django configured once per test process on a real PostgreSQL (a
throwaway cluster, see postgres.py) or, with ``AUTOGRADER_TEST_DB=sqlite``, on the embedded
SQLite default; the course is tests/fakes.py's (04_scale), graded on the fake sandbox.

Needs the ``server`` extra (``make venv`` installs it): without it these tests are left out, and
under CI that fails the run instead."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

try:
    import django  # noqa: F401
    import django_tasks_db  # noqa: F401
except ImportError:
    if os.environ.get("CI"):
        raise RuntimeError("the service's tests need the 'server' extra (pip install -e '.[server]')") from None
    collect_ignore_glob = ["test_*.py"]

DB = os.environ.get("AUTOGRADER_TEST_DB", "postgresql")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.service)


@pytest.fixture(scope="session")
def service(tmp_path_factory):
    """Django set up for the fake course; yields what tests need (the course, the database kind)."""
    from tests import fakes

    root = tmp_path_factory.mktemp("service")
    course = fakes.course(root / "course")
    cluster = None
    env = {"AUTOGRADER_COURSE": str(course), "AUTOGRADER_SERVICE_HOME": str(root / "home"),
           "AUTOGRADER_SANDBOX": "tests.service.fakes.fake_sandbox", "AUTOGRADER_BACKEND": "auto",
           "AUTOGRADER_ALLOWED_HOSTS": "testserver,localhost,127.0.0.1", "AUTOGRADER_RATE_PER_HOUR": "5",
           "AUTOGRADER_UPLOAD_MB": "0.25", "DJANGO_SETTINGS_MODULE": "autograder.service.settings"}
    if DB == "postgresql":
        from tests.service.postgres import Cluster, Missing

        try:
            cluster = Cluster().start()
        except Missing as exc:
            if os.environ.get("CI"):
                pytest.fail(str(exc))
            pytest.skip(f"{exc}; or run them on SQLite: AUTOGRADER_TEST_DB=sqlite")
        import psycopg

        with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE autograder")
        env["DATABASE_URL"] = cluster.url()
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)   # read once, by the settings module; restored below for the other tests
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", interactive=False, verbosity=0)
        from autograder.service import course as service_course

        service_course.sync()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    yield {"course": course, "env": env, "root": root, "cluster": cluster, "db": DB}
    from django.db import connections

    connections.close_all()
    if cluster is not None:
        cluster.stop()


@pytest.fixture(autouse=True)
def environment_kept():
    """What a service test's commands put into the environment (``autograder lti ...`` run in-process
    sets the course folder) never reaches the tests after it."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def svc(service, monkeypatch):
    """Each test starts with only the course's assignments in the database."""
    monkeypatch.setenv("AUTOGRADER_CACHE", str(service["root"] / "cache"))
    yield service
    from tests.service.helpers import clean

    clean()



@pytest.fixture
def chromium():
    """Playwright driving Debian's chromium (bash tests/ensure-chromium.sh), never a downloaded browser;
    stopped after the test (a live Playwright keeps an event loop in this thread, which Django's ORM
    refuses to run beside)."""
    import shutil

    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        message = "chromium is not installed (bash tests/ensure-chromium.sh installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()
