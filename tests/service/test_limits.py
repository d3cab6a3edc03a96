"""Upload limits: over the size limit, not a notebook, over the rate limit, a closed assignment:
each a clear message, and nothing stored (no file, no row, no job). CSRF on the upload form."""

from __future__ import annotations

import os

import pytest

from tests.service.helpers import NAME, account, client_for, notebook_bytes, upload


def _nothing_stored(svc):
    from django.conf import settings
    from django_tasks_db.models import DBTaskResult

    from autograder.service.models import Submission

    files = [f for _, _, fs in os.walk(settings.UPLOAD_ROOT) for f in fs] if settings.UPLOAD_ROOT.exists() else []
    return Submission.objects.count() == 0 and DBTaskResult.objects.count() == 0 and files == []


@pytest.fixture
def empty_store(svc):
    import shutil

    from django.conf import settings

    shutil.rmtree(settings.UPLOAD_ROOT, ignore_errors=True)
    return svc


def test_a_file_over_the_size_limit_is_refused_and_nothing_stored(empty_store):
    big = notebook_bytes(empty_store["course"]) + b" " * (300 * 1024)   # the tests' limit: 0.25 MB
    response = upload(client_for(account("ada")), big)
    assert response.status_code == 413 and "over the 0.25 MB limit" in response.content.decode()
    assert "Nothing was stored" in response.content.decode() and _nothing_stored(empty_store)


@pytest.mark.parametrize("filename, data, says", [
    ("notes.txt", b"hello", "is not a notebook"),
    ("broken.ipynb", b"{\"cells\": [", "could not be read as a notebook"),
    ("empty.ipynb", b"", "could not be read as a notebook"),
    ("list.ipynb", b"[1, 2]", "could not be read as a notebook"),
])
def test_what_is_not_a_notebook_is_refused_and_nothing_stored(empty_store, filename, data, says):
    response = upload(client_for(account("ada")), data, filename)
    assert response.status_code == 400 and says in response.content.decode()
    assert _nothing_stored(empty_store)


def test_no_file_is_a_clear_message(empty_store):
    response = client_for(account("ada")).post(f"/a/{NAME}/submit/", {})
    assert response.status_code == 400 and "Choose a notebook" in response.content.decode()


def test_the_rate_limit_refuses_the_next_upload_and_stores_nothing(svc):
    from autograder.service.models import Submission

    client = client_for(account("ada"))
    for n in range(5):   # the tests' limit: 5 an hour
        assert upload(client, notebook_bytes(svc["course"], wrong_by="x" * n)).status_code == 302
    response = upload(client, notebook_bytes(svc["course"], wrong_by="x" * 9))
    assert response.status_code == 429 and "5 times in the last hour" in response.content.decode()
    assert Submission.objects.count() == 5
    # another student is not limited by ada's uploads
    assert upload(client_for(account("ben")), notebook_bytes(svc["course"])).status_code == 302


def test_a_closed_assignment_takes_nothing(svc):
    from autograder.service.models import Assignment, Submission

    Assignment.objects.filter(name=NAME).update(open=False)
    response = upload(client_for(account("ada")), notebook_bytes(svc["course"]))
    assert response.status_code == 403 and Submission.objects.count() == 0


def test_every_form_needs_its_csrf_token(svc):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from autograder.service.models import Submission

    ada, prof = account("ada"), account("prof", "instructor")
    c = client_for(ada, csrf=True)
    bad = c.post(f"/a/{NAME}/submit/", {"notebook": SimpleUploadedFile("a.ipynb", notebook_bytes(svc["course"]))})
    assert bad.status_code == 403 and Submission.objects.count() == 0
    assert client_for(prof, csrf=True).post(f"/staff/a/{NAME}/publish/", {"published": "1"}).status_code == 403
    assert c.post("/signout/").status_code == 403
    page = c.get(f"/a/{NAME}/").content.decode()
    assert 'name="csrfmiddlewaretoken"' in page


def test_security_headers_on_every_page(svc):
    c = client_for(account("ada"))
    for url in ("/", f"/a/{NAME}/", "/signin/"):
        r = c.get(url)
        assert r["X-Frame-Options"] == "DENY" and r["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in r["Content-Security-Policy"] and "frame-ancestors 'none'" in \
            r["Content-Security-Policy"] and "script-src 'self';" in r["Content-Security-Policy"]
