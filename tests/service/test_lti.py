"""LTI 1.3 end to end against a test platform built from the 1EdTech specifications
(tests/service/lti_platform.py: real RSA keys, its JWKS, token, NRPS and AGS endpoints served over
HTTP from a thread), on the real PostgreSQL fixture with the fake sandbox: a student, an instructor
and a TA launched in with their roles; a deep link made by staff (the signed answer checked with the
tool's published keys); the roster provisioned through NRPS; each counted score received through
AGS, again after an override, a regrade and a failure of the gradebook; and the launches that must
be refused (bad signature, expired, replayed, unknown issuer or deployment, wrong nonce or state),
each with a clear page and no session."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.service.helpers import NAME, account, client_for, notebook_bytes, run_queue, upload
from tests.service.lti_platform import MEMBERSHIP, TA, Platform, rsa_key

TOOL = "http://testserver"


@pytest.fixture
def lms(svc):
    from django.test import Client

    from autograder.service.lti_register import register

    platform = Platform()
    register("Test LMS", platform.issuer, platform.client_id, platform.auth_url, platform.token_url,
             platform.jwks_url, [platform.deployment], [platform.url])
    platform.tool_jwks = Client().get("/lti/jwks.json").json()   # what the platform reads from the tool's JWKS URL
    platform.tool_url = TOOL
    yield platform
    platform.close()
    from lti_tool.models import LtiPlatformInstance, LtiRegistration

    from autograder.service.lti_models import LtiState

    LtiRegistration.objects.all().delete()
    LtiPlatformInstance.objects.all().delete()
    LtiState.objects.all().delete()


def _login(client, platform, who="ada", secure=False):
    """Step 1-2 of the OIDC flow: the platform's login initiation, the tool's redirect to the platform."""
    r = client.get("/lti/login/", {"iss": platform.issuer, "login_hint": who, "client_id": platform.client_id,
                                   "target_link_uri": f"{TOOL}/lti/launch/", "lti_deployment_id": platform.deployment},
                   secure=secure)
    assert r.status_code == 302, r.content
    assert r["Location"].startswith(platform.auth_url + "?")
    q = {k: v[-1] for k, v in parse_qs(urlsplit(r["Location"]).query).items()}
    assert q["response_mode"] == "form_post" and q["scope"] == "openid" and q["client_id"] == platform.client_id
    return q


def _launch(client, platform, who="ada", *, secure=False, state=None, nonce=None, **claims):
    """The whole launch as a browser goes through it; returns (response, id token, state)."""
    q = _login(client, platform, who, secure=secure)
    token = platform.id_token(nonce or q["nonce"], who, **claims)
    r = client.post("/lti/launch/", {"id_token": token, "state": state or q["state"]}, secure=secure)
    return r, token, q["state"]


def _client():
    from django.test import Client

    return Client(enforce_csrf_checks=True)


def _who(client):
    from django.contrib.auth import get_user

    return get_user(client)


def test_student_instructor_and_ta_launch_into_the_assignment_with_their_roles(lms):
    from lti_tool.models import LtiUser

    from autograder.service.lti_models import LtiLink

    ada = account("ada")   # already on the CSV roster: the LMS's institution id names the same account
    student = _client()
    r, _, _ = _launch(student, lms, "ada", custom={"assignment": NAME})
    assert r.status_code == 302 and r["Location"] == f"/a/{NAME}/"
    assert _who(student) == ada and ada.profile.role == "student"
    page = student.get(r["Location"])
    assert page.status_code == 200 and NAME.replace("_", " ") in page.content.decode()
    assert f"frame-ancestors {lms.url}" in page["Content-Security-Policy"]   # framed by the launching LMS only
    assert "X-Frame-Options" not in page
    assert LtiUser.objects.get(sub="lms-user-ada").auth_user == ada
    link = LtiLink.objects.get()
    assert link.assignment.name == NAME and link.lineitem_url == lms.lineitem(1)

    for who, role in (("grace", "instructor"), ("tom", "ta")):   # tom: Canvas's TA (TA sub-role + Instructor)
        c = _client()
        r, _, _ = _launch(c, lms, who, custom={"assignment": NAME})
        assert r.status_code == 302 and r["Location"] == f"/a/{NAME}/"
        user = _who(c)
        user.profile.refresh_from_db()
        assert (user.username, user.profile.role) == (who, role)
        assert c.get("/staff/").status_code == 200

    r, _, _ = _launch(_client(), lms, "mia", custom={"assignment": NAME})   # a Mentor has no role here
    assert r.status_code == 403 and "role" in r.content.decode()


def test_the_lms_role_wins_at_each_launch(lms):
    c = _client()
    _launch(c, lms, "ada", custom={"assignment": NAME}, roles=[MEMBERSHIP + "Instructor"])
    assert _who(c).profile.role == "instructor"
    c = _client()
    _launch(c, lms, "ada", custom={"assignment": NAME}, roles=[TA])
    user = _who(c)
    assert user.profile.role == "ta" and not user.is_superuser


def test_staff_deep_link_an_assignment_and_the_link_then_opens_it(lms):
    from autograder.service.lti_launch import CUSTOM_ASSIGNMENT

    staff = _client()
    r, _, _ = _launch(staff, lms, "grace", message_type="LtiDeepLinkingRequest")
    assert r.status_code == 302 and r["Location"] == "/lti/deep-link/"
    picker = staff.get("/lti/deep-link/")
    assert picker.status_code == 200 and NAME in picker.content.decode()
    assert staff.post("/lti/deep-link/", {"assignment": NAME}).status_code == 403   # CSRF still required
    token = picker.cookies["csrftoken"].value if "csrftoken" in picker.cookies else staff.cookies["csrftoken"].value
    answer = staff.post("/lti/deep-link/", {"assignment": NAME, "csrfmiddlewaretoken": token})
    assert answer.status_code == 200
    html = answer.content.decode()
    assert f'action="{lms.url}/deep-link-return"' in html
    assert f"form-action 'self' {lms.url}" in answer["Content-Security-Policy"]
    jwt_value = html.split('name="JWT" value="')[1].split('"')[0]
    claims = lms.check_tool_jwt(jwt_value, audience=lms.issuer)   # signed with the tool's published key
    assert claims["iss"] == lms.client_id
    assert claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == "LtiDeepLinkingResponse"
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == lms.deployment
    assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-platform-data"
    [item] = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink" and item["url"] == f"{TOOL}/lti/launch/"
    assert item["custom"] == {CUSTOM_ASSIGNMENT: NAME}
    assert item["lineItem"]["scoreMaximum"] == 2.0 and item["lineItem"]["resourceId"] == NAME

    # the platform makes the link with the item's custom parameters: a student's launch opens the assignment
    r, _, _ = _launch(_client(), lms, "ada", custom=item["custom"], resource_link="new-link")
    assert r.status_code == 302 and r["Location"] == f"/a/{NAME}/"

    r, _, _ = _launch(_client(), lms, "ada", message_type="LtiDeepLinkingRequest")
    assert r.status_code == 403 and "Only instructors and TAs" in r.content.decode()
    lone = client_for(account("prof", "instructor"))   # staff, but no deep linking launch in this session
    assert lone.get("/lti/deep-link/").status_code == 400


def test_roster_from_nrps_creates_and_updates_accounts_and_deletes_nothing(lms, svc):
    from django.contrib.auth import get_user_model

    from autograder.service.models import Submission

    ada = account("ada")
    c = client_for(ada)
    upload(c, notebook_bytes(svc["course"]))
    staff = _client()
    _launch(staff, lms, "grace", custom={"assignment": NAME})
    lms.members = [   # NRPS 2.0 §2.2 membership container members
        {"user_id": "lms-user-ada", "roles": [MEMBERSHIP + "Learner"], "status": "Active", "name": "Ada L.",
         "email": "ada@example.edu", "lis_person_sourcedid": "ada"},
        {"user_id": "lms-user-bob", "roles": ["Learner"], "name": "Bob", "email": "bob@example.edu",
         "lis_person_sourcedid": "bob"},
        {"user_id": "lms-user-tom", "roles": [TA], "status": "Active", "name": "Tom", "lis_person_sourcedid": "tom"},
        {"user_id": "lms-user-eve", "roles": [MEMBERSHIP + "Learner"], "status": "Inactive", "name": "Eve"},
        {"user_id": "lms-user-mia", "roles": [MEMBERSHIP + "Mentor"], "status": "Active", "name": "Mia"},
    ]
    from lti_tool.models import LtiContext

    context = LtiContext.objects.get(id_on_platform="course-1")
    page = staff.get("/staff/lti/").content.decode()
    token = staff.cookies["csrftoken"].value
    r = staff.post(f"/staff/lti/sync/{context.pk}/", {"csrfmiddlewaretoken": token})
    assert r.status_code == 302
    notice = staff.get(r["Location"]).content.decode()
    assert "5 members read: 2 new accounts, 1 updated, 1 inactive, 1 without a role here." in notice, notice
    User = get_user_model()
    roles = {u.username: u.profile.role for u in User.objects.filter(username__in=["ada", "bob", "tom"])}
    assert roles == {"ada": "student", "bob": "student", "tom": "ta"}
    assert User.objects.get(username="ada").profile.display_name == "Ada L."
    assert not User.objects.filter(username__in=["eve", "mia"]).exists()

    lms.members = lms.members[1:]   # ada left the LMS course: her account and submission stay
    staff.post(f"/staff/lti/sync/{context.pk}/", {"csrfmiddlewaretoken": token})
    assert User.objects.filter(username="ada").exists() and Submission.objects.filter(student=ada).count() == 1
    assert "Sync the roster from the LMS" in page


def test_scores_reach_the_gradebook_after_grading_override_regrade_and_failure(lms, svc):
    from autograder.service.lti_models import ScorePost
    from autograder.service.models import Assignment, Submission

    # hidden results shown at once: each counted score goes as it is (withheld until the student
    # sees the hidden checks otherwise: tests/service/test_hidden_per_student.py)
    Assignment.objects.filter(name=NAME).update(hidden_results=Assignment.Hidden.AT_ONCE)
    student = _client()
    _launch(student, lms, "ada", custom={"assignment": NAME})
    ada = _who(student)
    from django.core.files.uploadedfile import SimpleUploadedFile

    student.get(f"/a/{NAME}/")   # the page, in the LMS's frame, sets the CSRF cookie; its form posts the notebook
    r = student.post(f"/a/{NAME}/submit/", {"notebook": SimpleUploadedFile(f"{NAME}.ipynb", notebook_bytes(svc["course"])),
                                            "csrfmiddlewaretoken": student.cookies["csrftoken"].value})
    assert r.status_code == 302, r.content
    run_queue()   # grading, then the passback job it queued
    assert Submission.objects.get(student=ada).state == "graded"
    [first] = lms.scores
    assert first["url"] == f"{lms.url}/lineitems/1/lineitem/scores?type=assignment"
    assert first["content_type"] == "application/vnd.ims.lis.v1.score+json"
    body = first["body"]
    assert body["userId"] == "lms-user-ada"
    assert (body["scoreGiven"], body["scoreMaximum"]) == (2.0, 2.0)
    assert (body["activityProgress"], body["gradingProgress"]) == ("Completed", "FullyGraded")
    assert body["timestamp"].endswith("+00:00")

    prof = client_for(account("prof", "instructor"))
    prof.post(f"/staff/a/{NAME}/override/", {"student": ada.username, "score": "1.5", "reason": "late"})
    run_queue()
    assert lms.scores[-1]["body"]["scoreGiven"] == 1.5 and "late" in lms.scores[-1]["body"]["comment"]
    assert lms.scores[-1]["body"]["timestamp"] > body["timestamp"]

    prof.post(f"/staff/a/{NAME}/override/", {"student": ada.username, "score": ""})   # cleared
    prof.post(f"/staff/a/{NAME}/regrade/")
    run_queue()
    assert [s["body"]["scoreGiven"] for s in lms.scores[-2:]] == [2.0, 2.0]   # the clear, then the regrade

    lms.fail_scores = 1   # the gradebook is down: grading goes on, the failure stays visible, then is sent
    prof.post(f"/staff/a/{NAME}/override/", {"student": ada.username, "score": "1", "reason": "appeal"})
    sent = len(lms.scores)
    run_queue()
    post = ScorePost.objects.get()
    assert post.state == "failed" and "503" in post.error and len(lms.scores) == sent
    page = prof.get("/staff/lti/").content.decode()
    assert "could not be sent" in page and "503" in page
    prof.post("/staff/lti/retry/")
    run_queue()
    post.refresh_from_db()
    assert post.state == "sent" and post.error == "" and lms.scores[-1]["body"]["scoreGiven"] == 1.0

    # a change that moves the whole class (a policy, an extension) sends everyone's counted score again
    from autograder.service.lti_services import schedule_assignment

    assert schedule_assignment(Assignment.objects.get(name=NAME)) == 1
    run_queue()
    assert lms.scores[-1]["body"]["scoreGiven"] == 1.0 and len(lms.scores) == sent + 2


@pytest.mark.parametrize("case", ["bad signature", "expired", "replayed", "unknown issuer", "unknown deployment",
                                  "wrong nonce", "wrong state", "no exp", "unknown client"])
def test_a_bad_launch_is_refused_with_a_clear_page_and_no_session(lms, case):
    from django.conf import settings
    from django.contrib.sessions.models import Session
    from lti_tool.models import LtiDeployment, LtiUser

    c = _client()
    kwargs: dict = {"custom": {"assignment": NAME}}
    if case == "replayed":
        r, token, state = _launch(c, lms, "ada", **kwargs)
        assert r.status_code == 302
        c = _client()   # an attacker with the captured post, and the state cookie too
        c.cookies[f"lti1p3-{state}"] = state
        sessions = Session.objects.count()
        r = c.post("/lti/launch/", {"id_token": token, "state": state})
        expected = "already used"
    else:
        expected = {"bad signature": "signature", "expired": "expired", "unknown issuer": "not registered",
                    "unknown deployment": "deployment", "wrong nonce": "nonce", "wrong state": "state",
                    "no exp": "token", "unknown client": "not registered"}[case]
        if case == "bad signature":
            kwargs["key"] = rsa_key()   # another key, the platform's kid
        elif case == "expired":
            kwargs["exp_in"] = -60
        elif case == "unknown issuer":
            kwargs["iss"] = "https://evil.example"
        elif case == "unknown deployment":
            kwargs["deployment"] = "deployment-unknown"
        elif case == "wrong nonce":
            kwargs["nonce"] = "a-nonce-the-tool-never-issued"
        elif case == "wrong state":
            kwargs["state"] = "state-forged"
        elif case == "no exp":
            kwargs["drop"] = ("exp",)
        elif case == "unknown client":
            kwargs["aud"] = "another-client"
        sessions = Session.objects.count()
        r, _, _ = _launch(c, lms, "ada", **kwargs)
    assert r.status_code == 403
    page = r.content.decode()
    assert "This LMS launch was refused" in page and expected in page.lower(), page
    assert settings.SESSION_COOKIE_NAME not in r.cookies
    assert Session.objects.count() == sessions
    assert c.get(f"/a/{NAME}/").status_code == 302   # not signed in
    if case != "replayed":
        assert not LtiUser.objects.exists()   # nothing recorded for a refused launch
    assert not LtiDeployment.objects.filter(deployment_id="deployment-unknown").exists()


def test_frames_and_cookies(lms):
    from django.conf import settings

    from autograder.service.models import Profile  # noqa: F401 - accounts exist

    plain = client_for(account("ada"))   # signed in with a link: nobody may frame the pages
    page = plain.get("/")
    assert page["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in page["Content-Security-Policy"]
    login = _client().get("/lti/login/", {"iss": lms.issuer, "login_hint": "ada", "client_id": lms.client_id,
                                          "target_link_uri": f"{TOOL}/lti/launch/"})
    assert "X-Frame-Options" not in login   # the LMS frames the login too

    c = _client()   # behind HTTPS: the launched session's cookies work in the LMS's iframe
    r, _, _ = _launch(c, lms, "ada", secure=True, custom={"assignment": NAME})
    assert r.status_code == 302
    cookie = r.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["samesite"] == "None" and cookie["secure"]
    page = c.get(f"/a/{NAME}/", secure=True)
    assert page.cookies[settings.CSRF_COOKIE_NAME]["samesite"] == "None"

    c = _client()   # over HTTP (a test setup): nothing can be Secure, the cookies stay Lax
    r, _, _ = _launch(c, lms, "ada", custom={"assignment": NAME})
    assert r.cookies[settings.SESSION_COOKIE_NAME]["samesite"] == "Lax"

    from lti_tool.models import LtiRegistration

    LtiRegistration.objects.update(is_active=False)   # a platform switched off frames nothing more
    assert "frame-ancestors 'none'" in c.get(f"/a/{NAME}/")["Content-Security-Policy"]


def test_login_from_an_unknown_platform_is_refused(lms):
    r = _client().get("/lti/login/", {"iss": "https://evil.example", "login_hint": "ada", "client_id": "x",
                                      "target_link_uri": f"{TOOL}/lti/launch/"})
    assert r.status_code == 400 and "not registered" in r.content.decode()
    r = _client().get("/lti/login/", {"client_id": "x"})
    assert r.status_code == 400 and "login_hint" in r.content.decode()


def test_register_command_canvas_json_and_moodle_fields(svc, capsys):
    """``autograder lti`` in-process: the Canvas developer key JSON has the fields canvas-lms's
    ``doc/api/lti_dev_key_config.md`` lists; registering twice updates; bad URLs are usage errors;
    the private key is never printed."""
    from lti_tool.models import Key, LtiRegistration

    from autograder.cli import main

    assert main(["lti", "canvas-json", "--base-url", "https://grader.example.edu"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["oidc_initiation_url"] == "https://grader.example.edu/lti/login/"
    assert config["target_link_uri"] == "https://grader.example.edu/lti/launch/"
    assert config["public_jwk_url"] == "https://grader.example.edu/lti/jwks.json"
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in config["scopes"]
    assert "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly" in config["scopes"]
    [ext] = config["extensions"]
    assert ext["platform"] == "canvas.instructure.com" and ext["privacy_level"] == "public"
    assert {p["placement"] for p in ext["settings"]["placements"]} == {"link_selection", "assignment_selection"}
    assert {p["message_type"] for p in ext["settings"]["placements"]} == {"LtiDeepLinkingRequest"}
    assert main(["lti", "moodle", "--base-url", "https://grader.example.edu"]) == 0
    assert "Initiate login URL: https://grader.example.edu/lti/login/" in capsys.readouterr().out

    args = ["lti", "register", "--name", "Canvas", "--issuer", "https://canvas.instructure.com",
            "--client-id", "10000000000001", "--auth-url", "https://sso.canvaslms.com/api/lti/authorize_redirect",
            "--token-url", "https://sso.canvaslms.com/login/oauth2/token",
            "--keyset-url", "https://sso.canvaslms.com/api/lti/security/jwks", "--deployment", "1:abc",
            "--frame-origin", "https://school.instructure.com"]
    try:
        assert main(args) == 0
        assert main(args + ["--deployment", "2:def"]) == 0
        out = capsys.readouterr().out
        assert "registered Canvas" in out and "updated Canvas" in out and "framed by https://school.instructure.com" in out
        reg = LtiRegistration.objects.get(issuer="https://canvas.instructure.com")
        assert sorted(reg.deployments.values_list("deployment_id", flat=True)) == ["1:abc", "2:def"]
        assert "PRIVATE" not in out and Key.objects.active().exists()
        assert main(["lti", "register", "--issuer", "x", "--client-id", "y", "--auth-url", "ftp://nope",
                     "--token-url", "https://t", "--keyset-url", "https://k", "--deployment", "d"]) == 2
        assert "is not an http(s) URL" in capsys.readouterr().err
        assert main(["lti", "list"]) == 0
        assert "https://canvas.instructure.com" in capsys.readouterr().out
        jwks = client_for().get("/lti/jwks.json").json()
        assert jwks["keys"] and all(set(k) <= {"kty", "n", "e", "kid", "alg", "use"} for k in jwks["keys"])
        admin = client_for(account("prof", "instructor")).get(f"/admin/lti_tool/ltiregistration/{reg.pk}/change/")
        assert admin.status_code == 200 and "frame_origins" in admin.content.decode()
        assert "private_key" not in admin.content.decode() and "PRIVATE KEY" not in admin.content.decode()
    finally:
        LtiRegistration.objects.filter(issuer="https://canvas.instructure.com").delete()
