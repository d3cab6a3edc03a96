"""Accounts from a roster CSV, and one-time sign-in links.

The roster: a CSV with a header; ``id`` (the student's id, their user name) is required,
``name``, ``email`` and ``role`` (student, ta, instructor; default student) are optional."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from autograder.errors import UsageError
from autograder.service.models import Profile, Role, SignInLink

ROLES = {"student": Role.STUDENT, "ta": Role.TA, "instructor": Role.INSTRUCTOR, "teacher": Role.INSTRUCTOR,
         "learner": Role.STUDENT}


@dataclass
class Imported:
    username: str
    name: str
    role: str
    created: bool
    token: str


def read_roster(text: str) -> list[dict]:
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        raise UsageError("the roster is empty (a header line, then one line per person)")
    fields = {f.strip().lower() for f in rows[0].keys() if f}
    if "id" not in fields:
        raise UsageError("the roster needs an 'id' column (and optionally name, email, role)")
    people = []
    for number, row in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        if not row.get("id"):
            raise UsageError(f"roster line {number}: no id")
        role = ROLES.get(row.get("role", "").lower() or "student")
        if role is None:
            raise UsageError(f"roster line {number}: unknown role {row['role']!r} (student, ta, instructor)")
        people.append({"id": row["id"], "name": row.get("name", ""), "email": row.get("email", ""), "role": role})
    return people


def ensure_account(username: str, name: str = "", email: str = "", role: str = Role.STUDENT):
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    if created:
        user.set_unusable_password()
    user.email = email or user.email
    user.is_staff = role == Role.INSTRUCTOR   # Django's admin (is_staff) is the instructors' only; TAs have the staff pages
    user.is_superuser = role == Role.INSTRUCTOR   # the admin is the instructors' back office
    user.save()
    Profile.objects.update_or_create(user=user, defaults={"role": role, "display_name": name})
    return user, created


def import_roster(text: str, links: bool = True) -> list[Imported]:
    """Create or update an account per roster line, and a fresh sign-in link for each."""
    done = []
    with transaction.atomic():
        for person in read_roster(text):
            user, created = ensure_account(person["id"], person["name"], person["email"], person["role"])
            done.append(Imported(user.username, person["name"], person["role"], created,
                                 SignInLink.issue(user) if links else ""))
    return done


def link_lines(imported: list[Imported], base_url: str) -> list[str]:
    base = base_url.rstrip("/")
    return [f"{i.username}\t{i.role}\t{base}/signin/{i.token}/" for i in imported]
