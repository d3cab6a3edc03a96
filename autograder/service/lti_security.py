"""Framing and cookies for pages an LMS shows in an iframe.

Every page refuses to be framed (``frame-ancestors 'none'``, ``X-Frame-Options: DENY``), except:
the LTI endpoints (``/lti/``: login, launch, deep linking, and their refusals), which the registered
platforms' origins may frame; and every page of a session an LTI launch started, which the
launching platform's origins may frame (its registration's ``frame_origins``, read at each request:
a platform deactivated or removed frames nothing more). ``X-Frame-Options`` has no list of
origins, so on those responses it is left out and the CSP's ``frame-ancestors`` says who may frame.

Cookies: in an LMS's iframe the service is a third party, and browsers send its cookies there only
when they are ``SameSite=None; Secure``. Behind HTTPS, the session and CSRF cookies of an
LTI-started session are sent so (a session signed in otherwise keeps ``SameSite=Lax``); the CSRF
token is still required on every form. Over plain HTTP (tests, a laptop) nothing can be
``Secure``: the cookies stay ``Lax``, which works only where the LMS and the service are the same
site (the same host name, any port), as in the test setup."""

from __future__ import annotations

import re

from django.conf import settings

from autograder.service.security import CSP

LTI_PREFIX = "/lti/"
_FRAME = re.compile(r"frame-ancestors [^;]*")


def _all_platform_origins() -> list[str]:
    from autograder.service.lti_models import LtiPlatform

    origins: list[str] = []
    for p in LtiPlatform.objects.filter(registration__is_active=True):
        origins += [o for o in p.origins() if o not in origins]
    return origins


def _session_origins(request) -> list[str] | None:
    from autograder.service.lti_launch import SESSION_KEY
    from autograder.service.lti_models import LtiPlatform

    session = getattr(request, "session", None)
    lti = session.get(SESSION_KEY) if session is not None else None
    if not lti:
        return None
    platform = LtiPlatform.objects.filter(registration_id=lti.get("registration"),
                                          registration__is_active=True).first()
    return platform.origins() if platform else []


def framing_origins(request) -> list[str] | None:
    """The origins that may frame this response; None: nobody (the default headers)."""
    if request.path.startswith(LTI_PREFIX):
        return _all_platform_origins()
    if request.path.startswith(settings.STATIC_URL):   # never a page; no session read for it
        return None
    return _session_origins(request)


class LtiFramingMiddleware:
    """Placed after the security headers' middleware and before the session's (see settings)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        origins = framing_origins(request)
        if origins:
            policy = response.headers.get("Content-Security-Policy", CSP)
            response.headers["Content-Security-Policy"] = _FRAME.sub("frame-ancestors " + " ".join(origins), policy)
            if "X-Frame-Options" in response.headers:
                del response.headers["X-Frame-Options"]
            response.xframe_options_exempt = True
        form_action = getattr(response, "lti_form_action", "")
        if form_action:   # the deep linking answer posts to the platform
            policy = response.headers.get("Content-Security-Policy", CSP)
            response.headers["Content-Security-Policy"] = policy.replace("form-action 'self'",
                                                                         f"form-action 'self' {form_action}")
        if origins is not None and request.is_secure():
            _third_party_cookies(request, response)
        return response


def _third_party_cookies(request, response) -> None:
    for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
        cookie = response.cookies.get(name)
        if cookie is not None and cookie.value:
            cookie["samesite"] = "None"
            cookie["secure"] = True
