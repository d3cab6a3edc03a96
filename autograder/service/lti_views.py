"""The LTI 1.3 pages: OIDC login initiation, the launch, the tool's JWKS, Deep Linking (staff pick
an assignment; the answer is a JWT signed with the tool's key, posted back to the platform), the
staff page of LMS links, roster syncs and score passbacks, and the tool's configuration for Canvas.

A refused launch is a page that says why (status 403) and leaves no session behind. Which sites
may frame these pages is :mod:`autograder.service.lti_security`'s concern."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from autograder.service.lti_launch import (SESSION_KEY, Refused, accept, oidc_login, purge_expired, refusal,
                                           start_session)
from autograder.service.models import Assignment, Role
from autograder.service.views import staff_required

log = logging.getLogger("autograder.service")


def _refused(request, reason: str, status: int = 403):
    return render(request, "service/lti_refused.html", {"reason": reason}, status=status)


@csrf_exempt   # the platform's form post: the signed token is the proof, not a CSRF cookie
@require_http_methods(["GET", "POST"])
def login(request):
    """OIDC third-party login initiation (LTI Security Framework §5.1.1): a redirect to the platform's
    authorization endpoint with a fresh state (its cookie) and nonce; the platform answers at the launch URL."""
    from pylti1p3.exception import LtiException, OIDCException

    params = request.POST if request.method == "POST" else request.GET
    if not params.get("iss") or not params.get("login_hint"):
        return _refused(request, "The LMS did not send the sign-in request's iss and login_hint.", 400)
    purge_expired()   # states, nonces and launches past their lifetime
    try:
        return oidc_login(request).redirect(request.build_absolute_uri(reverse("service:lti-launch")))
    except (LtiException, OIDCException) as exc:
        return _refused(request, refusal(exc) if "registration" not in str(exc).lower() else
                        "The LMS that sent this sign-in request is not registered with this service.", 400)


@csrf_exempt   # the platform's form post (id_token, state), checked by pylti1p3 and lti_launch
@require_POST
def launch(request):
    try:
        accepted = accept(request)
    except Refused as exc:
        log.warning("LTI launch refused: %s", exc)
        return _refused(request, str(exc))
    start_session(request, accepted)
    if accepted.assignment is None:
        return redirect("service:lti-deep-link")
    return redirect("service:assignment", name=accepted.assignment.name)


@require_GET
def jwks(request):
    """The tool's public keys (django-lti's ``Key`` rows): platforms check the tool's signatures with them."""
    from lti_tool.views import jwks as library_jwks

    return library_jwks(request)


def _session_launch(request):
    """The deep linking launch this session started (pylti1p3, from the database), or None."""
    from pylti1p3.contrib.django import DjangoMessageLaunch
    from pylti1p3.exception import LtiException

    from autograder.service.lti_launch import DatabaseStorage, ToolConfig

    launch_id = (request.session.get(SESSION_KEY) or {}).get("launch_id")
    if not launch_id:
        return None
    try:
        message = DjangoMessageLaunch.from_cache(launch_id, request, ToolConfig(),
                                                 launch_data_storage=DatabaseStorage())
    except LtiException:
        return None
    return message if message.is_deep_link_launch() else None


@staff_required
@require_http_methods(["GET", "POST"])
def deep_link(request):
    """Staff pick the assignment the new LMS link opens; the answer (LTI Deep Linking 2.0 §4.2) is a
    signed JWT posted back to the platform's ``deep_link_return_url`` by the browser."""
    from pylti1p3.deep_link_resource import DeepLinkResource
    from pylti1p3.lineitem import LineItem

    from autograder.service.scores import assignment_max

    message = _session_launch(request)
    if message is None:
        return _refused(request, "There is no LMS request to add an assignment here: start again from the LMS "
                                 "(add the submission service to a course or a module).", 400)
    if request.method == "GET":
        return render(request, "service/lti_deep_link.html", {"assignments": Assignment.objects.all()})
    a = get_object_or_404(Assignment, name=request.POST.get("assignment", ""))
    title = a.title or a.name
    resource = (DeepLinkResource().set_type("ltiResourceLink").set_title(title)
                .set_url(request.build_absolute_uri(reverse("service:lti-launch")))
                .set_custom_params({"assignment": a.name}))
    maximum = assignment_max(a)
    if maximum:
        resource.set_lineitem(LineItem().set_score_maximum(maximum).set_label(title).set_resource_id(a.name))
    deep = message.get_deep_link()
    token = deep.get_response_jwt([resource])
    return_url = message.get_launch_data()["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"][
        "deep_link_return_url"]
    response = render(request, "service/lti_deep_link_return.html", {"return_url": return_url, "jwt": token, "a": a})
    target = urlsplit(return_url)
    response.lti_form_action = f"{target.scheme}://{target.netloc}"   # lti_security adds it to form-action
    log.info("LTI deep link: %s linked %s", request.user.username, a.name)
    return response


@staff_required
@require_GET
def staff(request):
    from lti_tool.models import LtiContext, LtiRegistration

    from autograder.service.lti_models import LtiLink, ScorePost
    from autograder.service.models import role_of

    posts = ScorePost.objects.select_related("student", "link__assignment")
    return render(request, "service/lti_staff.html", {
        "registrations": LtiRegistration.objects.prefetch_related("deployments"),
        "contexts": LtiContext.objects.select_related("deployment__registration"),
        "links": LtiLink.objects.select_related("assignment", "resource_link__context"),
        "failed": posts.filter(state=ScorePost.State.FAILED),
        "posts": posts[:100],
        "notice": request.GET.get("notice", "")[:200],
        "instructor": role_of(request.user) == Role.INSTRUCTOR})


@staff_required
@require_POST
def sync(request, context_id: int):
    """The staff button: the context's roster from the LMS (NRPS)."""
    from lti_tool.models import LtiContext

    from autograder.service.lti_services import sync_roster

    context = get_object_or_404(LtiContext, pk=context_id)
    try:
        counts = sync_roster(context)
    except Exception as exc:  # noqa: BLE001 - the LMS's answer, shown to staff as it is
        log.warning("NRPS sync of %s failed: %s", context, exc)
        notice = f"The roster could not be read from the LMS: {type(exc).__name__}: {exc}"
    else:
        notice = (f"{counts['members']} members read: {counts['created']} new accounts, {counts['updated']} "
                  f"updated, {counts['inactive']} inactive, {counts['no_role']} without a role here.")
    return redirect(reverse("service:lti-staff") + "?" + _query(notice=notice))


@staff_required
@require_POST
def retry(request):
    from autograder.service.lti_services import retry_failed

    return redirect(reverse("service:lti-staff") + "?" + _query(notice=f"{retry_failed()} scores queued to be "
                                                                         "sent again."))


def _query(**kw) -> str:
    from urllib.parse import urlencode

    return urlencode(kw)


@require_GET
def canvas_config(request):
    """The tool's configuration as a Canvas developer key's JSON (see docs/lti.md)."""
    from autograder.service.lti_register import canvas_json

    base = request.build_absolute_uri("/").rstrip("/")
    return JsonResponse(canvas_json(base, request.GET.get("title") or "Course submissions"),
                        json_dumps_params={"indent": 2})


urlpatterns = [
    path("lti/login/", login, name="lti-login"),
    path("lti/launch/", launch, name="lti-launch"),
    path("lti/jwks.json", jwks, name="lti-jwks"),
    path("lti/deep-link/", deep_link, name="lti-deep-link"),
    path("lti/canvas.json", canvas_config, name="lti-canvas"),
    path("staff/lti/", staff, name="lti-staff"),
    path("staff/lti/sync/<int:context_id>/", sync, name="lti-sync"),
    path("staff/lti/retry/", retry, name="lti-retry"),
]
