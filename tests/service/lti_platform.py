"""A small LTI 1.3 platform for the tests, built from the 1EdTech specifications (not from the
tool's code): LTI Core 1.3 (the launch's claims, §5), the Security Framework 1.0 (OIDC third-party
login §5.1, the platform's JWKS §6, the client-credentials grant with a JWT assertion §4.1), Deep
Linking 2.0 (the request's settings claim §4.4, the response §4.5), Names and Role Provisioning 2.0
(the membership container §2.2) and Assignment and Grade Services 2.0 (Score publish §3.4).

It signs with a real RSA key (``cryptography``) and serves, from a thread, over real HTTP on
127.0.0.1: its JWKS, its token endpoint (the tool's client assertion checked against the tool's
own JWKS), an NRPS membership container, an AGS score endpoint that records what it receives, the
OIDC authorization endpoint (for a browser: it answers with the auto-posted form of LTI §5.1.1.3)
and an "LMS page" that frames a launch. The tool reaches it only through that HTTP."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from html import escape
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
TA = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
AGS_SCOPES = ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
              "https://purl.imsglobal.org/spec/lti-ags/scope/score"]
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

USERS = {   # login_hint -> the person and their context roles (Canvas's TA: canvas-lms LIS_V2_ROLE_MAP)
    "ada": {"sub": "lms-user-ada", "name": "Ada Lovelace", "email": "ada@example.edu", "sourcedid": "ada",
            "roles": [MEMBERSHIP + "Learner"]},
    "grace": {"sub": "lms-user-grace", "name": "Grace Hopper", "email": "grace@example.edu", "sourcedid": "grace",
              "roles": [MEMBERSHIP + "Instructor"]},
    "tom": {"sub": "lms-user-tom", "name": "Tom TA", "email": "tom@example.edu", "sourcedid": "tom",
            "roles": [TA.replace("Instructor#", "instructor#"), MEMBERSHIP + "Instructor"]},
    "mia": {"sub": "lms-user-mia", "name": "Mia Mentor", "email": "mia@example.edu", "sourcedid": "mia",
            "roles": [MEMBERSHIP + "Mentor"]},
}


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_jwk(key, kid: str) -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return dict(jwk, kid=kid, alg="RS256", use="sig")


class Platform:
    def __init__(self, client_id: str = "tool-client-1", deployment: str = "deployment-1"):
        self.key, self.kid = rsa_key(), f"platform-{uuid.uuid4().hex[:8]}"
        self.client_id, self.deployment = client_id, deployment
        self.members: list[dict] = []
        self.scores: list[dict] = []        # each AGS score received: {"url", "content_type", "body"}
        self.deep_link_answers: list[str] = []
        self.fail_scores = 0               # answer this many score posts with a 503
        self.tool_jwks: dict | None = None  # the tool's published keys (the test fetches them)
        self.tool_url = ""                  # the tool's base URL, for the browser's flow
        self.tokens: set[str] = set()
        self.launch_claims: dict = {}       # extra claims for the browser's launches
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.issuer = self.url
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()

    # the platform's URLs (what an admin types into the tool's registration)
    @property
    def auth_url(self):
        return self.url + "/auth"

    @property
    def token_url(self):
        return self.url + "/token"

    @property
    def jwks_url(self):
        return self.url + "/jwks"

    def lineitem(self, n: int = 1) -> str:
        return f"{self.url}/lineitems/{n}/lineitem?type=assignment"   # a query string, as Moodle's have

    def memberships_url(self, context: str = "course-1") -> str:
        return f"{self.url}/nrps/{context}"

    # --- messages ---------------------------------------------------------------------------
    def id_token(self, nonce: str, who: str = "ada", *, message_type: str = "LtiResourceLinkRequest",
                 custom: dict | None = None, resource_link: str = "link-1", lineitem: int | None = 1,
                 exp_in: int = 300, key=None, kid: str | None = None, iss: str | None = None,
                 deployment: str | None = None, aud: str | None = None, roles: list | None = None,
                 target: str = "http://testserver/lti/launch/", drop: tuple = ()) -> str:
        user = USERS[who]
        now = int(time.time())
        claims = {
            "iss": iss or self.issuer, "aud": aud or self.client_id, "sub": user["sub"],
            "iat": now, "exp": now + exp_in, "nonce": nonce,
            "name": user["name"], "email": user["email"],
            LTI + "message_type": message_type, LTI + "version": "1.3.0",
            LTI + "deployment_id": deployment or self.deployment,
            LTI + "target_link_uri": target,
            LTI + "roles": roles if roles is not None else user["roles"],
            LTI + "context": {"id": "course-1", "label": "TF101", "title": "TensorFlow 101",
                              "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]},
            LTI + "lis": {"person_sourcedid": user["sourcedid"]},
            LTI + "launch_presentation": {"document_target": "iframe"},
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": self.memberships_url(), "service_versions": ["2.0"]},
        }
        if message_type == "LtiResourceLinkRequest":
            claims[LTI + "resource_link"] = {"id": resource_link, "title": "Lab"}
            if custom is not None:
                claims[LTI + "custom"] = custom
            ags = {"scope": AGS_SCOPES, "lineitems": self.url + "/lineitems"}
            if lineitem is not None:
                ags["lineitem"] = self.lineitem(lineitem)
            claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"] = ags
        else:
            claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
                "deep_link_return_url": self.url + "/deep-link-return", "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"], "accept_multiple": False,
                "data": "opaque-platform-data"}
        for name in drop:
            claims.pop(name, None)
        return jwt.encode(claims, pem(key or self.key), algorithm="RS256", headers={"kid": kid or self.kid})

    def check_tool_jwt(self, token: str, audience: str) -> dict:
        """A JWT the tool signed, checked with the tool's published JWKS (Security Framework §5.1.1)."""
        header = jwt.get_unverified_header(token)
        keys = {k["kid"]: k for k in (self.tool_jwks or {"keys": []})["keys"]}
        key = jwt.PyJWK.from_dict(keys[header["kid"]]).key
        return jwt.decode(token, key, algorithms=["RS256"], audience=audience)

    # --- the HTTP side ----------------------------------------------------------------------
    def _handler(self):
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body, content_type: str = "application/json"):
                data = body if isinstance(body, bytes) else (json.dumps(body) if not isinstance(body, str) else body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _authorized(self) -> bool:
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if token not in platform.tokens:
                    self._send(401, {"error": "invalid_token"})
                    return False
                return True

            def do_GET(self):
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/jwks":
                    return self._send(200, {"keys": [public_jwk(platform.key, platform.kid)]})
                if parts.path.startswith("/nrps/"):
                    if not self._authorized():
                        return
                    return self._send(200, {"id": platform.url + parts.path,
                                            "context": {"id": "course-1", "label": "TF101", "title": "TensorFlow 101"},
                                            "members": platform.members},
                                      "application/vnd.ims.lti-nrps.v2.membershipcontainer+json")
                if parts.path == "/auth":
                    return self._auth(query)
                if parts.path == "/lms":
                    return self._lms_page(query)
                return self._send(404, {"error": "not found"})

            def do_POST(self):
                parts = urlsplit(self.path)
                body = self._body()
                if parts.path == "/token":
                    form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
                    try:
                        assert form["grant_type"] == "client_credentials"
                        assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                        claims = platform.check_tool_jwt(form["client_assertion"], platform.token_url)
                        assert claims["iss"] == claims["sub"] == platform.client_id
                    except Exception as exc:  # noqa: BLE001 - the tool's assertion is wrong: a 400, as OAuth2 says
                        return self._send(400, {"error": "invalid_client", "error_description": repr(exc)})
                    token = uuid.uuid4().hex
                    platform.tokens.add(token)
                    return self._send(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600,
                                            "scope": form.get("scope", "")})
                if parts.path.startswith("/lineitems/") and parts.path.endswith("/scores"):
                    if not self._authorized():
                        return
                    if platform.fail_scores > 0:
                        platform.fail_scores -= 1
                        return self._send(503, {"error": "the gradebook is down"})
                    platform.scores.append({"url": platform.url + self.path,
                                            "content_type": self.headers.get("Content-Type"),
                                            "body": json.loads(body)})
                    return self._send(200, {})
                if parts.path == "/deep-link-return":
                    form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
                    platform.deep_link_answers.append(form.get("JWT", ""))
                    return self._send(200, "<!doctype html><title>Added</title><h1>Added to the course</h1>",
                                      "text/html; charset=utf-8")
                return self._send(404, {"error": "not found"})

            def _auth(self, q: dict):
                """The OIDC authorization endpoint (Security Framework §5.1.1.2-3): checks, then the form post."""
                ok = (q.get("client_id") == platform.client_id and q.get("response_type") == "id_token"
                      and q.get("scope") == "openid" and q.get("response_mode") == "form_post"
                      and q.get("redirect_uri", "").startswith(platform.tool_url) and q.get("login_hint") in USERS)
                if not ok:
                    return self._send(400, {"error": "invalid_request", "query": q})
                token = platform.id_token(q["nonce"], q["login_hint"], target=q["redirect_uri"],
                                          **platform.launch_claims)
                html = (f'<!doctype html><form method="post" action="{escape(q["redirect_uri"])}">'
                        f'<input type="hidden" name="id_token" value="{token}">'
                        f'<input type="hidden" name="state" value="{escape(q["state"])}"></form>'
                        '<script>document.forms[0].submit()</script>')
                return self._send(200, html, "text/html; charset=utf-8")

            def _lms_page(self, q: dict):
                """An LMS course page that shows the tool in an iframe (as Canvas and Moodle do)."""
                login = platform.tool_url + "/lti/login/?" + urlencode({
                    "iss": platform.issuer, "login_hint": q.get("user", "ada"), "client_id": platform.client_id,
                    "target_link_uri": platform.tool_url + "/lti/launch/", "lti_deployment_id": platform.deployment,
                    "lti_message_hint": "link-1"})
                html = ('<!doctype html><html><head><meta name="viewport" content="width=device-width, '
                        'initial-scale=1"><title>TF101 · LMS</title><style>body{margin:0;font-family:sans-serif}'
                        'header{background:#394b58;color:#fff;padding:.6rem 1rem}iframe{border:0;width:100%;'
                        'height:720px;display:block}</style></head><body><header>TensorFlow 101 · Lab</header>'
                        f'<iframe id="tool" title="Course submissions" src="{escape(login)}" '
                        'allow="clipboard-write"></iframe></body></html>')
                return self._send(200, html, "text/html; charset=utf-8")

        return Handler
