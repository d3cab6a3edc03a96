"""What the service keeps of LTI 1.3 beyond django-lti's own models (``lti_tool``: registrations,
deployments, contexts with their NRPS and AGS URLs, LMS users linked to service users, the tool's
keys): which origins may frame the pages for a registered platform, which assignment a resource
link opens (and its AGS line item), the OIDC state, nonces and launches kept between requests (in
the database, so every web process sees them, and a nonce is used once), and each score posted to an
LMS gradebook with its outcome (a failure stays visible to staff and is tried again)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class LtiPlatform(models.Model):
    """The service's settings for one registered platform (django-lti's ``LtiRegistration``)."""

    registration = models.OneToOneField("lti_tool.LtiRegistration", on_delete=models.CASCADE,
                                        related_name="service_platform")
    frame_origins = models.TextField(blank=True, help_text="origins allowed to frame the LTI pages, one per line "
                                                           "(https://school.instructure.com)")

    class Meta:
        app_label = "service"

    def __str__(self):
        return f"{self.registration.name}: {' '.join(self.origins())}"

    def origins(self) -> list[str]:
        return [o.strip() for o in self.frame_origins.split() if o.strip()]


class LtiLink(models.Model):
    """An LMS resource link (a link in a course) and the assignment it opens; the AGS line item its
    launches name (the gradebook column scores are posted to)."""

    resource_link = models.OneToOneField("lti_tool.LtiResourceLink", on_delete=models.CASCADE,
                                         related_name="service_link")
    assignment = models.ForeignKey("service.Assignment", on_delete=models.CASCADE, related_name="lti_links")
    lineitem_url = models.URLField(max_length=1000, blank=True)
    ags_scopes = models.TextField(blank=True, help_text="the AGS scopes the platform granted, space separated")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "service"

    def __str__(self):
        return f"{self.resource_link} -> {self.assignment.name}"


class LtiState(models.Model):
    """A value pylti1p3 keeps between the OIDC login and the launch (state, nonce, launch data), with
    its expiry. A nonce is deleted when a launch uses it: a replayed token finds none."""

    key = models.CharField(max_length=255, unique=True)
    value = models.JSONField(null=True)
    expires = models.DateTimeField(db_index=True)

    class Meta:
        app_label = "service"

    @classmethod
    def live(cls):
        return cls.objects.filter(expires__gt=timezone.now())

    @staticmethod
    def until(seconds: int | None):
        return timezone.now() + timedelta(seconds=seconds or 86400)


class ScorePost(models.Model):
    """The counted score of one student on one LMS link, as last posted (or tried): one row per
    link and student, updated at each change; a failure keeps its error and is tried again."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    link = models.ForeignKey(LtiLink, on_delete=models.CASCADE, related_name="score_posts")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="score_posts")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    payload = models.JSONField(null=True, blank=True, help_text="the last score sent (or tried)")
    changed = models.DateTimeField(default=timezone.now, help_text="when the counted score last changed")
    sent = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "service"
        constraints = [models.UniqueConstraint(fields=["link", "student"], name="one_score_post_per_link_student")]
        ordering = ["-changed"]

    def __str__(self):
        return f"{self.link} {self.student.username}: {self.state}"
