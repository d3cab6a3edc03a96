"""What the service stores: the course's assignments, who is who (a role per account), one-time
sign-in links, and submissions (each upload, its stored file, its state and its result)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    INSTRUCTOR = "instructor", "Instructor"
    TA = "ta", "Teaching assistant"
    STUDENT = "student", "Student"


class Profile(models.Model):
    """A Django user's role in the course (the roster's id is the user name)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STUDENT)
    display_name = models.CharField(max_length=200, blank=True)

    def __str__(self):
        return f"{self.user.username} ({self.role})"

    @property
    def is_staff_role(self) -> bool:
        return self.role in (Role.INSTRUCTOR, Role.TA)


def role_of(user) -> str | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.INSTRUCTOR
    profile = getattr(user, "profile", None)
    return profile.role if profile else None


def is_staff_member(user) -> bool:
    return role_of(user) in (Role.INSTRUCTOR, Role.TA)


class Assignment(models.Model):
    """An assignment of the course folder (``assignments/NAME`` with ``solutions/NAME``)."""

    class Hidden(models.TextChoices):
        AT_ONCE = "at_once", "At once"
        AFTER_DUE = "after_due", "After the due date"
        WHEN_PUBLISHED = "when_published", "When staff publish them"

    name = models.CharField(max_length=200, unique=True)
    title = models.CharField(max_length=200, blank=True)
    due = models.DateTimeField(null=True, blank=True)
    open = models.BooleanField(default=True, help_text="students may submit")
    hidden_results = models.CharField(max_length=20, choices=Hidden.choices, default=Hidden.WHEN_PUBLISHED)
    published = models.BooleanField(default=False, help_text="hidden check results published by staff")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def hidden_shown(self, due=None) -> bool:
        """Whether a student sees their hidden checks' results now. ``due``: that student's own due
        instant (a later one from their extension: :func:`autograder.service.policy.hidden_shown_for`
        is what every student's page asks); None, the assignment's."""
        if self.hidden_results == self.Hidden.AT_ONCE or self.published:
            return True
        due = due or self.due
        return self.hidden_results == self.Hidden.AFTER_DUE and due is not None and timezone.now() >= due


class SignInLink(models.Model):
    """A one-time sign-in link: only the token's SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signin_links")
    token_sha256 = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField()
    used = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user, days: int | None = None) -> str:
        """A new link's token (the only time it exists in clear); the user's earlier unused links
        are revoked (marked used): only the newest link signs in."""
        token = secrets.token_urlsafe(32)
        cls.objects.filter(user=user, used__isnull=True).update(used=timezone.now())
        cls.objects.create(user=user, token_sha256=cls.digest(token),
                           expires=timezone.now() + timedelta(days=days or settings.SIGNIN_LINK_DAYS))
        return token

    def valid(self) -> bool:
        return self.used is None and timezone.now() < self.expires and self.user.is_active


class Submission(models.Model):
    """One upload. Its id is a random UUID (never guessable); its file is stored, content-addressed,
    before the student is told it was received."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        GRADED = "graded", "Graded"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="submissions")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions")
    filename = models.CharField(max_length=255)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED, db_index=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    regrade_pending = models.BooleanField(default=False,
                                          help_text="graded again: its result counts until the new one is stored")
    reused_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    result = models.JSONField(null=True, blank=True, help_text="the result's JSON form (autograder.result)")
    score = models.FloatField(null=True, blank=True)
    max_score = models.FloatField(null=True, blank=True)
    message = models.TextField(blank=True, help_text="why grading failed (staff only)")
    log = models.TextField(blank=True, help_text="the notebook's output and cell errors (staff only)")

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["assignment", "student", "created"])]

    def __str__(self):
        return f"{self.assignment.name} {self.student.username} {self.created:%Y-%m-%d %H:%M} ({self.state})"

    @property
    def finished_state(self) -> bool:
        return self.state in (self.State.GRADED, self.State.FAILED)

    def stored_path(self):
        from autograder.service.storage import content_path

        return content_path(self.sha256)


class WorkerBeat(models.Model):
    """A grading worker's last sign of life (every few seconds while it runs)."""

    worker = models.CharField(max_length=100, unique=True)
    started = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)
    backend = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["worker"]

    def __str__(self):
        return self.worker


class Override(models.Model):
    """A manual score for one student's assignment, with its reason (the gradebook's override,
    :func:`autograder.gradebook.with_override`): it replaces the counted score, and a regrade
    never erases it."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="overrides")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="overrides")
    score = models.FloatField()
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["assignment", "student"], name="one_override_per_student")]

    def __str__(self):
        return f"{self.assignment.name} {self.student.username}: {self.score:g} ({self.reason[:40]})"

    def as_gradebook(self) -> dict:
        return {"score": self.score, "reason": self.reason}


# LTI 1.3 (autograder.service.lti_models): platforms, links, launch state, score posts
from autograder.service.lti_models import LtiLink, LtiPlatform, LtiState, ScorePost  # noqa: E402,F401


class LmsRoster(models.Model):
    """The LMS's own student list of one assignment, as staff uploaded it: a Canvas gradebook export
    or a Moodle grading worksheet (read by :mod:`autograder.lms.roster`, as ``grade --roster`` reads
    it). Kept whole: the Canvas import file and the filled-in worksheet are written from it."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="lms_roster")
    kind = models.CharField(max_length=20)   # canvas | moodle-worksheet (autograder.lms.roster.Roster.kind)
    filename = models.CharField(max_length=255)
    text = models.TextField(help_text="the file as uploaded")
    column = models.CharField(max_length=300, blank=True, help_text="Canvas: the assignment's grade column")
    missing_as_zero = models.BooleanField(default=False, help_text="a student who handed in nothing gets 0")
    uploaded = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self):
        return f"{self.assignment.name}: {self.kind} ({self.filename})"


class LmsMember(models.Model):
    """Which account is which person of an LMS roster: the Canvas user id, or the Moodle participant
    id (one per assignment in Moodle)."""

    roster = models.ForeignKey(LmsRoster, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lms_members")
    lms_id = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["roster", "user"], name="one_lms_id_per_account"),
                       models.UniqueConstraint(fields=["roster", "lms_id"], name="one_account_per_lms_id")]

    def __str__(self):
        return f"{self.user.username} = {self.lms_id}"


class Extension(models.Model):
    """One grant of a later due date to one student on one assignment, with its reason and who
    gave it (:class:`autograder.policies.model.Extension` is what counting reads). History is
    kept: granting again adds a row (the newest one not revoked applies), revoking marks rows
    revoked with who and why; nothing is overwritten or deleted."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="extensions")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="extensions")
    until = models.DateTimeField()
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(default=timezone.now)
    revoked = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    revoke_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["assignment", "student", "created"])]

    def __str__(self):
        state = " (revoked)" if self.revoked else ""
        return f"{self.assignment.name} {self.student.username} until {self.until:%Y-%m-%d %H:%M}{state}"


class PolicyState(models.Model):
    """The course.toml policies the service last applied (a digest of their parsed form): a
    change found at a sync (``serve`` start, or the next count) re-sends every counted score."""

    key = models.CharField(max_length=20, unique=True, default="course")
    digest = models.CharField(max_length=64)
    seen = models.DateTimeField(default=timezone.now)
