"""An LTI 1.3 launch, checked and turned into a signed-in session (django-lti on pylti1p3).

pylti1p3 checks the OIDC state (its cookie), the id token's signature against the platform's
JWKS, its expiry, its issuer, client id and deployment, and the message; this module adds what it
leaves open: a nonce is used once (deleted from the database by the launch that uses it, after the
token is proven genuine, so a replayed token is refused), ``exp`` and ``iat`` are required, and an
unknown or inactive deployment is refused (django-lti would record it). Every refusal is a
:class:`Refused` with a sentence for the person who clicked the link; nothing is stored for them.

Roles: the context roles of the launch (LTI Core §A.2.3) give the service role, the highest first:
the TeachingAssistant sub-role → TA (Canvas sends a TA both it and ``membership#Instructor``:
canvas-lms ``lib/lti/substitutions_helper.rb``, ``LIS_V2_ROLE_MAP``); Instructor or Administrator →
instructor; ContentDeveloper → TA; Learner → student. Institution roles are ignored (a professor
taking a course is a student in it). No context role of these (Mentor, no role) is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from lti_tool.models import LtiDeployment, LtiLaunch, LtiUser
from lti_tool.utils import DjangoToolConfig, sync_data_from_launch
from pylti1p3.contrib.django import DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.exception import LtiException
from pylti1p3.launch_data_storage.cache import CacheDataStorage

from autograder.service.lti_models import LtiLink, LtiState
from autograder.service.models import Assignment, Role

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"
SESSION_KEY = "lti"
CUSTOM_ASSIGNMENT = "assignment"   # the custom parameter a deep link puts on the links it makes
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"


class Refused(Exception):
    """A launch the service does not accept; ``str()`` is what the person is told."""


# --- pylti1p3's storage and configuration, on the service's database ----------------------------

class _DatabaseCache:
    """The cache interface pylti1p3's CacheDataStorage calls, on :class:`LtiState` rows."""

    def get(self, key):
        row = LtiState.live().filter(key=key).values_list("value", flat=True)
        return next(iter(row), None)

    def set(self, key, value, exp=None):
        LtiState.objects.update_or_create(key=key, defaults={"value": value, "expires": LtiState.until(exp)})

    def take(self, key) -> bool:
        """Whether ``key`` was there (and live): it is gone afterwards, for this caller only."""
        deleted, _ = LtiState.live().filter(key=key).delete()
        return deleted > 0


class DatabaseStorage(CacheDataStorage):
    """pylti1p3's launch data storage in the database: every web process sees the state and nonce
    the login stored, whichever process answers the launch. Keys are random (state, nonce, launch
    id) and never prefixed by a session id: the launch arrives before any session exists."""

    _cache = _DatabaseCache()

    def get_session_cookie_name(self):
        return None

    def take(self, key: str) -> bool:
        return self._cache.take(self._prepare_key(key))


class ToolConfig(DjangoToolConfig):
    """django-lti's registry lookup, but a deployment must be registered and active (django-lti
    records unknown ones as inactive; here they are refused before anything is recorded)."""

    def find_deployment(self, iss, deployment_id):
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        found = LtiDeployment.objects.filter(registration__issuer=iss, registration__is_active=True,
                                             deployment_id=deployment_id, is_active=True)
        if client_id is not None:
            found = found.filter(registration__client_id=client_id)
        self.deployment = found.select_related("registration").first()
        if self.deployment is None:
            return None
        from lti_tool.utils import _prepare_deployment

        return _prepare_deployment(self.deployment)


class MessageLaunch(DjangoMessageLaunch):
    """pylti1p3's launch with a nonce that is used once, taken only after the token is proven."""

    def __init__(self, request):
        super().__init__(request, ToolConfig(), launch_data_storage=DatabaseStorage())
        self.set_jwt_verify_options({"verify_aud": False, "require": ["exp", "iat"]})

    def validate_nonce(self):
        nonce = self._get_jwt_body().get("nonce")
        if not nonce:
            raise LtiException('"nonce" is empty')
        return self

    def validate(self):
        self._validated = True
        try:
            (self.validate_state().validate_jwt_format().validate_nonce().validate_registration()
             .validate_jwt_signature().validate_deployment().validate_message())
            storage = self._session_service.data_storage
            if not storage.take(self._session_service._get_key("nonce", self._get_jwt_body()["nonce"])):
                raise LtiException("Invalid Nonce")
            return self.save_launch_data()
        except Exception:
            self._validated = False
            raise


def oidc_login(request):
    """The redirect to the platform's authorization endpoint (OIDC third-party login initiation)."""
    return DjangoOIDCLogin(request, ToolConfig(), launch_data_storage=DatabaseStorage())


# --- refusals in words ------------------------------------------------------------------------

_REASONS = [
    ("Missing state", "The launch came without its sign-in state."),
    ("State not found", "The launch's state does not match a sign-in started in this browser (it expired, was "
                        "opened in another browser, or was forged)."),
    ("nonce", "This launch was already used, or its nonce is unknown (a replayed or forged launch)."),
    ("Registration not found", "The LMS that sent this launch (its issuer and client id) is not registered "
                               "with this service."),
    ("Client id not registered", "The LMS that sent this launch (its issuer and client id) is not registered "
                                 "with this service."),
    ("deployment", "This LMS deployment is not registered (or not active) in this service."),
    ("Signature has expired", "The launch has expired."),
    ("expired", "The launch has expired."),
    ("Signature verification failed", "The launch's signature is not valid for this LMS's keys."),
    ("public key", "The launch is signed with a key this LMS does not publish."),
    ("Can't decode", "The launch's token is not valid"),
    ("JWT", "The launch's token is not valid."),
    ("message", "The launch is not a message this service accepts."),
]


def refusal(exc: Exception) -> str:
    text = str(exc)
    for marker, sentence in _REASONS:
        if marker.lower() in text.lower():
            return sentence if sentence.endswith(".") else f"{sentence} ({text})."
    return f"The launch is not valid ({text})."


# --- roles and accounts -----------------------------------------------------------------------

def service_role(roles) -> str | None:
    """The service role for an LTI roles claim (see the module's docstring), or None."""
    context = [r.strip() for r in roles or [] if isinstance(r, str)]
    short = {r.lower() for r in context if "/" not in r}   # simple names (LTI Core §A.2.3.1 allows them)
    full = {r.lower() for r in context if r.lower().startswith(MEMBERSHIP)}
    if any(r.endswith("#teachingassistant") for r in full) or "teachingassistant" in short:
        return Role.TA
    if {f"{MEMBERSHIP}#instructor", f"{MEMBERSHIP}#administrator"} & full or {"instructor", "administrator"} & short:
        return Role.INSTRUCTOR
    if f"{MEMBERSHIP}#contentdeveloper" in full or "contentdeveloper" in short:
        return Role.TA
    if f"{MEMBERSHIP}#learner" in full or "learner" in short:
        return Role.STUDENT
    return None


@dataclass(frozen=True)
class Person:
    """An LMS user as a launch or NRPS names them."""

    sub: str
    name: str = ""
    email: str = ""
    sourcedid: str = ""   # the institution's id (lis person_sourcedid): a roster CSV's id


def account_for(lti_user: LtiUser, person: Person, role: str):
    """The service account of an LMS user: the one linked to it, or else the roster's account with
    the LMS's institution id (or e-mail) as its user name when no other LMS user holds it, or a new
    one; its role and name are the LMS's now. Returns the Django user."""
    from autograder.service.accounts import ensure_account

    User = get_user_model()
    with transaction.atomic():
        lti_user = LtiUser.objects.select_for_update().get(pk=lti_user.pk)
        if lti_user.auth_user_id is not None:
            username = lti_user.auth_user.username
        else:
            username = ""
            for candidate in (person.sourcedid, person.email, f"lti-{lti_user.registration_id}-{person.sub}"):
                candidate = candidate.strip()[:150]
                if not candidate:
                    continue
                taken = User.objects.filter(username=candidate).first()
                if taken is None or not LtiUser.objects.filter(auth_user=taken).exclude(pk=lti_user.pk).exists():
                    username = candidate
                    break
        known = User.objects.filter(username=username).select_related("profile").first()
        name = person.name or getattr(getattr(known, "profile", None), "display_name", "")   # the LMS may hide it
        user, _ = ensure_account(username, name, person.email, role)
        if lti_user.auth_user_id != user.pk:
            lti_user.auth_user = user
            lti_user.save(update_fields=["auth_user", "datetime_modified"])
    return user


def person_from_launch(data: dict) -> Person:
    lis = data.get("https://purl.imsglobal.org/spec/lti/claim/lis") or {}
    name = data.get("name") or " ".join(p for p in (data.get("given_name"), data.get("family_name")) if p)
    return Person(str(data["sub"]), name or "", data.get("email") or "", str(lis.get("person_sourcedid") or ""))


# --- the launch -------------------------------------------------------------------------------

@dataclass
class Accepted:
    user: object
    role: str
    launch: LtiLaunch
    assignment: Assignment | None   # a resource link's assignment; None for a deep linking request


def accept(request) -> Accepted:
    """A launch POST checked, its LMS data recorded (django-lti: user, context with its NRPS and AGS
    URLs, membership, resource link), its person's account linked; raises :class:`Refused`."""
    try:
        message = MessageLaunch(request)
        message.validate()
    except LtiException as exc:
        raise Refused(refusal(exc)) from exc
    launch = LtiLaunch(message)
    data = launch.get_launch_data()
    role = service_role(data.get("https://purl.imsglobal.org/spec/lti/claim/roles"))
    if role is None:
        raise Refused("Your role in this course gives no access to the submission service "
                      "(students, instructors, TAs and content developers have one).")
    if not (launch.is_resource_launch or launch.is_deep_link_launch):
        raise Refused("This kind of LTI launch is not one the submission service offers.")
    if launch.is_deep_link_launch and role == Role.STUDENT:
        raise Refused("Only instructors and TAs add the submission service's assignments to a course.")
    assignment = None
    if launch.is_resource_launch:
        assignment = _assignment_of_link(data)   # before anything is recorded: an unknown one is refused
    sync_data_from_launch(launch)
    user = account_for(launch.user, person_from_launch(data), role)
    if assignment is not None:
        _remember_link(launch, assignment, data)
    return Accepted(user, role, launch, assignment)


def _assignment_of_link(data: dict) -> Assignment:
    custom = data.get("https://purl.imsglobal.org/spec/lti/claim/custom") or {}
    name = str(custom.get(CUSTOM_ASSIGNMENT) or "")
    if not name:
        link_id = (data.get("https://purl.imsglobal.org/spec/lti/claim/resource_link") or {}).get("id")
        known = LtiLink.objects.filter(resource_link__id_on_platform=link_id,
                                       resource_link__context__deployment__registration__issuer=data.get("iss"))
        found = known.select_related("assignment").first()
        if found is None:
            raise Refused("This link is not tied to an assignment: ask your instructor to add it again with "
                          "the submission service's assignment picker.")
        return found.assignment
    assignment = Assignment.objects.filter(name=name).first()
    if assignment is None:
        raise Refused(f"This link opens the assignment “{name}”, which this course's submission service "
                      "does not have.")
    return assignment


def _remember_link(launch: LtiLaunch, assignment: Assignment, data: dict) -> LtiLink:
    ags = data.get(AGS_CLAIM) or {}
    defaults = {"assignment": assignment}
    if ags.get("lineitem"):
        defaults["lineitem_url"] = ags["lineitem"]
        defaults["ags_scopes"] = " ".join(ags.get("scope") or [])
    link, _ = LtiLink.objects.update_or_create(resource_link=launch.resource_link, defaults=defaults)
    return link


def frame_origins_of(registration) -> list[str]:
    platform = getattr(registration, "service_platform", None)
    return platform.origins() if platform else []


def start_session(request, accepted: Accepted) -> None:
    """Sign the person in (a new session key) and remember the launch in the session."""
    from django.contrib.auth import login

    login(request, accepted.user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_KEY] = {"registration": accepted.launch.registration.pk,
                                    "launch_id": accepted.launch.get_launch_id(),
                                    "at": timezone.now().isoformat()}


def purge_expired() -> int:
    deleted, _ = LtiState.objects.filter(expires__lte=timezone.now()).delete()
    return deleted
