"""Registering an LTI 1.3 platform with the service, and the tool's configuration for the platform.

``autograder lti register`` records a platform (django-lti's ``LtiRegistration``: issuer, client id,
its authorization, token and JWKS URLs; its deployment ids, active; the origins that may frame the
pages) and makes the tool's key pair when there is none (django-lti's ``Key``: the private key is
stored in the database as PEM, as django-lti reads it, and never printed or shown: only the public
JWKS is published). ``autograder lti canvas-json`` prints the Canvas developer key's JSON
(canvas-lms ``doc/api/lti_dev_key_config.md``); ``autograder lti moodle`` the fields Moodle's
"External tool" form asks for (docs/lti.md)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

from autograder.errors import UsageError

SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]


@dataclass(frozen=True)
class Registered:
    name: str
    issuer: str
    client_id: str
    deployments: tuple[str, ...]
    frame_origins: tuple[str, ...]
    created: bool
    key_made: bool


def _origin(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"{what}: {url!r} is not an http(s) URL")
    return f"{parts.scheme}://{parts.netloc}"


def register(name: str, issuer: str, client_id: str, auth_url: str, token_url: str, keyset_url: str,
             deployments: list[str], frame_origins: list[str] | None = None) -> Registered:
    """Create or update a platform's registration (one per issuer and client id)."""
    from django.db import transaction
    from lti_tool.models import Key, LtiDeployment, LtiRegistration

    from autograder.service.lti_models import LtiPlatform

    for url, what in ((auth_url, "--auth-url"), (token_url, "--token-url"), (keyset_url, "--keyset-url")):
        _origin(url, what)
    if not issuer.strip() or not client_id.strip():
        raise UsageError("an issuer and a client id are needed (the platform shows both)")
    if not deployments:
        raise UsageError("at least one --deployment id is needed (the platform shows it after the tool is deployed)")
    origins = [_origin(o, "--frame-origin") for o in (frame_origins or [])] or [_origin(auth_url, "--auth-url")]
    with transaction.atomic():
        reg, created = LtiRegistration.objects.update_or_create(
            issuer=issuer.strip(), client_id=client_id.strip(),
            defaults={"name": name or issuer, "auth_url": auth_url, "token_url": token_url, "keyset_url": keyset_url,
                      "is_active": True})
        for d in deployments:
            LtiDeployment.objects.update_or_create(registration=reg, deployment_id=d.strip(),
                                                   defaults={"is_active": True})
        LtiPlatform.objects.update_or_create(registration=reg, defaults={"frame_origins": "\n".join(origins)})
        key_made = not Key.objects.active().exists()
        if key_made:
            Key.objects.generate()
    return Registered(reg.name, reg.issuer, reg.client_id, tuple(d.strip() for d in deployments), tuple(origins),
                      created, key_made)


def tool_urls(base: str) -> dict:
    base = base.rstrip("/")
    return {"login": f"{base}/lti/login/", "launch": f"{base}/lti/launch/", "jwks": f"{base}/lti/jwks.json",
            "deep_link": f"{base}/lti/launch/"}


def canvas_json(base: str, title: str = "Course submissions") -> dict:
    """The developer key's JSON configuration (canvas-lms ``doc/api/lti_dev_key_config.md``, "Anatomy of a
    JSON configuration"): OIDC login and launch URLs, the JWKS URL, AGS and NRPS scopes, and the
    placements that add a link through Deep Linking (a module item, an assignment's submission type)."""
    urls = tool_urls(base)
    placements = [{"placement": p, "message_type": "LtiDeepLinkingRequest", "target_link_uri": urls["launch"],
                   "text": title} for p in ("link_selection", "assignment_selection")]
    return {
        "title": title,
        "description": "Submit TensorFlow course notebooks and see their graded feedback; scores go to the gradebook.",
        "oidc_initiation_url": urls["login"],
        "target_link_uri": urls["launch"],
        "public_jwk_url": urls["jwks"],
        "scopes": SCOPES,
        "extensions": [{"domain": urlsplit(base).hostname, "platform": "canvas.instructure.com",
                        "privacy_level": "public",
                        "settings": {"text": title, "placements": placements}}],
        "custom_fields": {},
    }


def moodle_fields(base: str) -> dict:
    """What Moodle's "Add external tool" form asks for (Site administration > Plugins > Activity modules >
    External tool > Manage tools > configure a tool manually; moodle ``mod/lti/edit_form.php``, its labels
    from ``lang/en/lti.php``)."""
    urls = tool_urls(base)
    return {"Tool URL": urls["launch"], "LTI version": "LTI 1.3", "Public key type": "Keyset URL",
            "Public keyset": urls["jwks"], "Initiate login URL": urls["login"], "Redirection URI(s)": urls["launch"],
            "Supports Deep Linking (Content-Item Message)": "yes", "Content Selection URL": urls["launch"],
            "IMS LTI Assignment and Grade Services": "Use this service for grade sync and column management",
            "IMS LTI Names and Role Provisioning": "Use this service to retrieve members' information as per "
                                                  "privacy settings",
            "Share launcher's name with tool": "Always", "Share launcher's email with tool": "Always"}


def main(argv: list[str]) -> int:
    """``autograder lti ...`` (docs/lti.md)."""
    parser = argparse.ArgumentParser(prog="autograder lti", description="LTI 1.3: register an LMS with the service")
    sub = parser.add_subparsers(dest="what", required=True)
    r = sub.add_parser("register", help="register (or update) an LMS platform")
    r.add_argument("--name", default="")
    r.add_argument("--issuer", required=True)
    r.add_argument("--client-id", required=True)
    r.add_argument("--auth-url", required=True, help="the platform's OIDC authorization endpoint")
    r.add_argument("--token-url", required=True, help="the platform's OAuth2 access token URL")
    r.add_argument("--keyset-url", required=True, help="the platform's public JWKS URL")
    r.add_argument("--deployment", action="append", default=[], help="a deployment id (repeat for several)")
    r.add_argument("--frame-origin", action="append", default=[],
                   help="an origin allowed to frame the pages, e.g. https://school.instructure.com (repeat); "
                        "default: the authorization URL's origin")
    for name in ("canvas-json", "moodle"):
        p = sub.add_parser(name, help=f"print the tool's settings for {'Canvas' if name == 'canvas-json' else 'Moodle'}")
        p.add_argument("--base-url", required=True, help="the service's public address, https://grader.example.edu")
    sub.add_parser("list", help="the registered platforms")
    args = parser.parse_args(argv)
    if args.what == "canvas-json":
        print(json.dumps(canvas_json(args.base_url), indent=2))
        return 0
    if args.what == "moodle":
        for field, value in moodle_fields(args.base_url).items():
            print(f"{field}: {value}")
        return 0
    from autograder.service.commands import prepare_database, setup

    setup()
    prepare_database(say=lambda *_: None)
    if args.what == "list":
        from lti_tool.models import LtiRegistration

        for reg in LtiRegistration.objects.prefetch_related("deployments"):
            deps = ", ".join(d.deployment_id + ("" if d.is_active else " (inactive)") for d in reg.deployments.all())
            print(f"{reg.name}\t{reg.issuer}\tclient {reg.client_id}\tdeployments {deps}"
                  f"\t{'active' if reg.is_active else 'inactive'}")
        return 0
    try:
        done = register(args.name, args.issuer, args.client_id, args.auth_url, args.token_url, args.keyset_url,
                        args.deployment, args.frame_origin)
    except UsageError as exc:
        print(f"autograder lti register: {exc}", file=sys.stderr)
        return 2
    print(f"{'registered' if done.created else 'updated'} {done.name}: issuer {done.issuer}, client {done.client_id}, "
          f"deployments {', '.join(done.deployments)}; framed by {', '.join(done.frame_origins)}"
          + ("; the tool's key pair was made" if done.key_made else ""))
    return 0
