"""Django settings of the service, from the environment (set by ``autograder serve`` and
``autograder worker``, or by a deployment):

* ``AUTOGRADER_COURSE``: the course folder (assignments/, solutions/); default: as the CLI finds it
* ``AUTOGRADER_SERVICE_HOME``: the service's own files (SQLite, uploads, secret key);
  default ``COURSE/.autograder-service``
* ``DATABASE_URL``: ``postgresql://user:password@host:port/name`` (``?host=/socket/dir`` for a
  unix socket); without it, SQLite in the service home (the embedded default)
* ``AUTOGRADER_SECRET_KEY`` (default: generated once into the service home),
  ``AUTOGRADER_ALLOWED_HOSTS`` (comma separated), ``AUTOGRADER_HTTPS=1`` behind a TLS proxy
* ``AUTOGRADER_BACKEND`` (auto | local | docker), ``AUTOGRADER_UPLOAD_MB``,
  ``AUTOGRADER_RATE_PER_HOUR``, ``AUTOGRADER_SANDBOX`` (a dotted sandbox factory: tests only)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse


def _course() -> Path:
    from autograder.assignments.course import default_course_root

    return Path(os.environ.get("AUTOGRADER_COURSE") or default_course_root()).resolve()


def _env_bool(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def database_from_url(url: str, home: Path) -> dict:
    """Django's DATABASES entry for a ``DATABASE_URL`` (PostgreSQL or SQLite), or the embedded SQLite file."""
    if not url:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(home / "service.sqlite3"),
                "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE",
                            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}}
    parts = urlparse(url)
    if parts.scheme == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": unquote(parts.path),
                "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"}}
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"DATABASE_URL: unsupported scheme {parts.scheme!r} (postgresql:// or sqlite:///)")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return {"ENGINE": "django.db.backends.postgresql", "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""), "PASSWORD": unquote(parts.password or ""),
            "HOST": query.pop("host", unquote(parts.hostname or "")), "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True, "OPTIONS": query}


def _secret_key(home: Path) -> str:
    if os.environ.get("AUTOGRADER_SECRET_KEY"):
        return os.environ["AUTOGRADER_SECRET_KEY"]
    path = home / "secret_key"
    if not path.exists():
        from autograder.files import write_text

        home.mkdir(parents=True, exist_ok=True)
        try:
            write_text(path, secrets.token_urlsafe(50), mode=0o600)
        except FileExistsError:  # pragma: no cover
            pass
    return path.read_text().strip()


def private_home(home: Path) -> None:
    """The service home: readable by the service's user only (its database, uploads and secret key),
    and never committed with a course repository (a ``.gitignore`` of ``*``)."""
    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o700)
    ignore = home / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")


def private_file(path: Path) -> None:
    """``path`` (created empty when missing) readable and writable by its owner only: SQLite makes
    its -wal and -shm files with its database's mode."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)


COURSE_ROOT = _course()
SERVICE_HOME = Path(os.environ.get("AUTOGRADER_SERVICE_HOME") or COURSE_ROOT / ".autograder-service").resolve()
private_home(SERVICE_HOME)
UPLOAD_ROOT = SERVICE_HOME / "uploads"

SECRET_KEY = _secret_key(SERVICE_HOME)
DEBUG = False
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("AUTOGRADER_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
                 if h.strip()]
HTTPS = _env_bool("AUTOGRADER_HTTPS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "lti_tool",   # django-lti: LTI 1.3 registrations, deployments, contexts, LMS users, keys (docs/lti.md)
    "autograder.service.apps.ServiceConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "autograder.service.security.SecurityHeadersMiddleware",
    "autograder.service.lti_security.LtiFramingMiddleware",   # framing and cookies for LMS iframes
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "autograder.service.urls"
WSGI_APPLICATION = "autograder.service.wsgi.application"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]

DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL", ""), SERVICE_HOME)}
if not os.environ.get("DATABASE_URL"):   # the embedded SQLite file, its -wal and -shm: the owner's only
    for _suffix in ("", "-wal", "-shm"):
        _db = Path(DATABASES["default"]["NAME"] + _suffix)
        if not _suffix or _db.exists():
            private_file(_db)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["grading"]}}

AUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]
LOGIN_URL = "service:signin-help"
LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("AUTOGRADER_TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("AUTOGRADER_STATIC_ROOT") or SERVICE_HOME / "static")
# The embedded server serves its static files itself; behind a reverse proxy, the proxy does (collectstatic).
SERVE_STATIC = not _env_bool("AUTOGRADER_PROXY_STATIC")

# Uploads: Django keeps them in memory up to this size, then in a temporary file; the view refuses
# more than AUTOGRADER_UPLOAD_MB before anything is stored.
MAX_UPLOAD_BYTES = int(float(os.environ.get("AUTOGRADER_UPLOAD_MB", "5")) * 2**20)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2**20
FILE_UPLOAD_MAX_MEMORY_SIZE = 2**20
DATA_UPLOAD_MAX_NUMBER_FILES = 1   # the notebook: a request with more files is refused (400)
RATE_PER_HOUR = int(os.environ.get("AUTOGRADER_RATE_PER_HOUR", "20"))
SIGNIN_LINK_DAYS = int(os.environ.get("AUTOGRADER_SIGNIN_LINK_DAYS", "14"))

# How the workers grade: the course's Settings (autograder.settings.Settings) fields.
GRADING = {"backend": os.environ.get("AUTOGRADER_BACKEND", "auto")}
# A running job whose worker has not finished it in this long is queued again (its worker died);
# longer than any assignment's total time limit. A job requeued this many times fails.
LEASE_S = float(os.environ.get("AUTOGRADER_LEASE_S", "1800"))
MAX_ATTEMPTS = int(os.environ.get("AUTOGRADER_MAX_ATTEMPTS", "3"))
SANDBOX_FACTORY = os.environ.get("AUTOGRADER_SANDBOX", "autograder.api.default_sandbox")
# A Dask scheduler's address (tcp://host:8786): staff may regrade an assignment there, through the batch's
# Dask runner (autograder.runs.cluster), one job on the queue; empty: no such button.
DASK_ADDRESS = os.environ.get("AUTOGRADER_DASK", "").strip()

# Security: sessions and CSRF cookies only over HTTPS in production; no framing at all, except by registered
# LMSs (autograder.service.lti_security); the CSP is set by autograder.service.security.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 14 * 24 * 3600
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = not _env_bool("AUTOGRADER_NO_SSL_REDIRECT")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("AUTOGRADER_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("AUTOGRADER_TRUSTED_ORIGINS", "").split(",") if o.strip()]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["console"], "level": "WARNING"},
                "autograder.service": {"handlers": ["console"], "level": os.environ.get("AUTOGRADER_LOG", "INFO")}},
}

FILE_UPLOAD_HANDLERS = [
    "autograder.service.uploads.SizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
