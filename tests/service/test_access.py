"""Authorisation: every URL of the service, walked signed out, as another student, as a TA and as
an instructor, by GET and POST. A student's submission exists only for its owner (404 otherwise);
staff pages are 403 for students; signed out is sent to sign in. A new URL must join the table."""

from __future__ import annotations

import os

import pytest

from tests.service.helpers import NAME, account, client_for, notebook_bytes, run_queue, submission_id, upload

# url name -> (GET, POST) expected status for: signed out, the owner, another student, a TA, an instructor
# (302: sent to sign in, or on after a form; 405: the method is not taken)
TABLE = {
    "home":             {"out": (302, 302), "owner": (200, 405), "other": (200, 405), "ta": (200, 405), "prof": (200, 405)},
    "signin-help":      {"out": (200, 405), "owner": (200, 405), "other": (200, 405), "ta": (200, 405), "prof": (200, 405)},
    "signout":          {"out": (405, 302), "owner": (405, 302), "other": (405, 302), "ta": (405, 302), "prof": (405, 302)},
    "assignment":       {"out": (302, 302), "owner": (200, 405), "other": (200, 405), "ta": (200, 405), "prof": (200, 405)},
    "submit":           {"out": (302, 302), "owner": (405, 400), "other": (405, 400), "ta": (405, 400), "prof": (405, 400)},
    "submission":       {"out": (302, 302), "owner": (200, 405), "other": (404, 405), "ta": (200, 405), "prof": (200, 405)},
    "submission-state": {"out": (302, 302), "owner": (200, 405), "other": (404, 405), "ta": (200, 405), "prof": (200, 405)},
    "feedback":         {"out": (302, 302), "owner": (200, 405), "other": (404, 405), "ta": (200, 405), "prof": (200, 405)},
    "dashboard":        {"out": (302, 302), "owner": (403, 403), "other": (403, 403), "ta": (200, 405), "prof": (200, 405)},
    "staff-assignment": {"out": (302, 302), "owner": (403, 403), "other": (403, 403), "ta": (200, 405), "prof": (200, 405)},
    "publish":          {"out": (302, 302), "owner": (403, 403), "other": (403, 403), "ta": (405, 403), "prof": (405, 302)},
    "regrade":          {"out": (302, 302), "owner": (403, 403), "other": (403, 403), "ta": (405, 403), "prof": (405, 302)},
    # an instructor's POST without a student: 400 (the form's message), nothing changed
    "override":         {"out": (302, 302), "owner": (403, 403), "other": (403, 403), "ta": (405, 403), "prof": (405, 400)},
    # policies (test_policies.py): instructors only; a POST without a student is 400, a blank due clears it (200)
    "extension":        {"out": (302, 302), "owner": (403, 403), "other": (403, 403), "ta": (405, 403), "prof": (405, 400)},
    "due":              {"out": (302, 302), "owner": (403, 403), "other": (403, 403), "ta": (405, 403), "prof": (405, 200)},
    "export":           {"out": (302, 302), "owner": (403, 403), "other": (403, 403), "ta": (200, 405), "prof": (200, 405)},
    # an instructor's POST without a file: 400 (the form's message), nothing changed
    "lms-roster":       {"out": (302, 302), "owner": (403, 403), "other": (403, 403), "ta": (405, 403), "prof": (405, 400)},
    # no LMS roster uploaded here: staff get 404 (no such file)
    "lms-export":       {"out": (302, 302), "owner": (403, 403), "other": (403, 403), "ta": (404, 405), "prof": (404, 405)},
    "plot":             {"out": (302, 302), "owner": (403, 403), "other": (403, 403), "ta": (200, 405), "prof": (200, 405)},
    # the token is the secret: whoever holds the link may sign in with it (GET shows a button only)
    "signin":           {"out": (200, 302), "owner": (200, 302), "other": (200, 302), "ta": (200, 302), "prof": (200, 302)},
    # LTI (test_lti.py): the LMS's requests without their parameters or token are refused, whoever asks
    "lti-login":        {"out": (400, 400), "owner": (400, 400), "other": (400, 400), "ta": (400, 400), "prof": (400, 400)},
    "lti-launch":       {"out": (405, 403), "owner": (405, 403), "other": (405, 403), "ta": (405, 403), "prof": (405, 403)},
    "lti-jwks":         {"out": (200, 405), "owner": (200, 405), "other": (200, 405), "ta": (200, 405), "prof": (200, 405)},
    "lti-canvas":       {"out": (200, 405), "owner": (200, 405), "other": (200, 405), "ta": (200, 405), "prof": (200, 405)},
    # staff with no deep linking launch in their session: 400 (start from the LMS)
    "lti-deep-link":    {"out": (302, 302), "owner": (403, 403), "other": (403, 403), "ta": (400, 400), "prof": (400, 400)},
    "lti-staff":        {"out": (302, 302), "owner": (403, 403), "other": (403, 403), "ta": (200, 405), "prof": (200, 405)},
    "lti-sync":         {"out": (302, 302), "owner": (403, 403), "other": (403, 403), "ta": (405, 404), "prof": (405, 404)},
    "lti-retry":        {"out": (302, 302), "owner": (403, 403), "other": (403, 403), "ta": (405, 302), "prof": (405, 302)},
}


@pytest.fixture(scope="module")
def world(service):
    """One graded submission and four people, for the whole module (nothing here changes them)."""
    from autograder.service.models import SignInLink
    from tests.service.helpers import clean

    saved = os.environ.get("AUTOGRADER_CACHE")
    os.environ["AUTOGRADER_CACHE"] = str(service["root"] / "cache")

    people = {"owner": account("ada"), "other": account("ben"), "ta": account("tina", "ta"),
              "prof": account("prof", "instructor")}
    pk = submission_id(upload(client_for(people["owner"]), notebook_bytes(service["course"])))
    run_queue()
    yield {"people": people, "pk": pk, "token": lambda: SignInLink.issue(people["owner"])}
    clean()
    if saved is None:
        os.environ.pop("AUTOGRADER_CACHE", None)
    else:
        os.environ["AUTOGRADER_CACHE"] = saved


def _url(name: str, world) -> str:
    from django.urls import reverse

    kwargs = {"assignment": {"name": NAME}, "submit": {"name": NAME}, "staff-assignment": {"name": NAME},
              "publish": {"name": NAME}, "regrade": {"name": NAME}, "override": {"name": NAME},
              "extension": {"name": NAME}, "due": {"name": NAME},
              "export": {"name": NAME, "kind": "feedback.zip"},
              "lms-roster": {"name": NAME}, "lms-export": {"name": NAME, "kind": "canvas.csv"},
              "plot": {"name": NAME, "which": "scores.png"},
              "submission": {"submission_id": world["pk"]},
              "submission-state": {"submission_id": world["pk"]}, "feedback": {"submission_id": world["pk"]},
              "signin": {"token": world["token"]()}, "lti-sync": {"context_id": 999999}}.get(name, {})
    return reverse(f"service:{name}", kwargs=kwargs)


def test_the_table_covers_every_url_of_the_service(service):
    from autograder.service.urls import service

    assert {p.name for p in service} == set(TABLE)


@pytest.mark.parametrize("who", ["out", "owner", "other", "ta", "prof"])
def test_every_url_as_each_kind_of_visitor(world, who):
    got, want = {}, {}
    for name, expected in TABLE.items():
        for method, status in zip(("get", "post"), expected[who]):
            client = client_for(world["people"].get(who))
            response = getattr(client, method)(_url(name, world))
            got[(name, method)], want[(name, method)] = response.status_code, status
            if who == "out" and response.status_code == 302 and name not in ("signin", "signout"):
                assert response["Location"].startswith("/signin/?next=")
    if who == "prof":
        run_queue()   # the instructor's regrade queued the submission again: graded again, as it was
    assert got == want


def test_a_guessed_or_foreign_submission_id_is_404_and_ids_are_random(world):
    import uuid

    from autograder.service.models import Submission

    other = client_for(world["people"]["other"])
    for url in (f"/s/{uuid.uuid4()}/", f"/s/{uuid.uuid4()}/feedback/", f"/s/{world['pk']}/feedback/"):
        assert other.get(url).status_code == 404
    assert uuid.UUID(world["pk"]).version == 4 and Submission._meta.pk.name == "id"
    assert other.get("/s/1/").status_code == 404


def test_the_admin_is_for_instructors(world):
    assert client_for().get("/admin/").status_code == 302
    assert client_for(world["people"]["owner"]).get("/admin/").status_code == 302
    # a TA is not is_staff: the admin sends them to its sign-in, as a student
    assert client_for(world["people"]["ta"]).get("/admin/").status_code == 302
    assert client_for(world["people"]["ta"]).get("/admin/service/assignment/").status_code == 302
    prof = client_for(world["people"]["prof"])
    assert prof.get("/admin/service/submission/").status_code == 200
    assert prof.get(f"/admin/service/submission/{world['pk']}/change/").status_code == 200


def test_a_student_sees_only_their_own_submissions_in_lists(world):
    ben = client_for(world["people"]["other"])
    assert world["pk"] not in ben.get(f"/a/{NAME}/").content.decode()
    assert world["pk"] not in ben.get("/").content.decode()
