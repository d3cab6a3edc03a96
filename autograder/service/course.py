"""The course folder's assignments, mirrored into the service's database."""

from __future__ import annotations

from django.conf import settings

from autograder.service.models import Assignment


def course_assignments() -> list[str]:
    """Names of the assignments that can be graded: ``assignments/NAME/checks.py`` and ``solutions/NAME``."""
    root = settings.COURSE_ROOT
    if not (root / "assignments").is_dir():
        return []
    return sorted(p.name for p in (root / "assignments").iterdir()
                  if (p / "checks.py").is_file() and (root / "solutions" / p.name).is_dir())


def sync() -> list[str]:
    """Add the course folder's new assignments (existing rows keep their settings, but for what
    course.toml's policies decide: :func:`autograder.service.policy.sync`); returns the added names."""
    added = []
    for name in course_assignments():
        _, created = Assignment.objects.get_or_create(name=name, defaults={"title": name.replace("_", " ")})
        if created:
            added.append(name)
    from autograder.service.lti_services import resend_all
    from autograder.service.policy import sync as sync_policies

    if sync_policies():   # course.toml's due dates and hidden-results choices into the rows (one source each)
        resend_all()      # and its policies changed since the last start: every counted score again
    return added


def version(name: str) -> str | None:
    from autograder.assignments.course import find_assignment

    try:
        return find_assignment(name, settings.COURSE_ROOT).version
    except Exception:  # noqa: BLE001 - an assignment gone from the folder has no version: nothing reused
        return None
