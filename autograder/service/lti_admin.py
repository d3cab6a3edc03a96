"""The admin of the LTI side: platforms (django-lti's registration, its deployments and the origins
that may frame the pages), links and score posts. The tool's private key is never shown: django-lti's
registration form has a private key field, which this one leaves out."""

from django.contrib import admin
from django.db import models
from lti_tool.models import LtiDeployment, LtiRegistration

from autograder.service.lti_models import LtiLink, LtiPlatform, ScorePost


class DeploymentInline(admin.TabularInline):
    model = LtiDeployment
    fields = ("deployment_id", "is_active")
    extra = 0


class PlatformInline(admin.StackedInline):
    model = LtiPlatform
    fields = ("frame_origins",)
    can_delete = False


if admin.site.is_registered(LtiRegistration):
    admin.site.unregister(LtiRegistration)


@admin.register(LtiRegistration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ("name", "issuer", "client_id", "is_active")
    fields = ("name", "issuer", "client_id", "audience", "auth_url", "token_url", "keyset_url", "is_active")
    inlines = [DeploymentInline, PlatformInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(LtiLink)
class LinkAdmin(admin.ModelAdmin):
    list_display = ("resource_link", "assignment", "lineitem_url")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    raw_id_fields = ("resource_link",)


@admin.register(ScorePost)
class ScorePostAdmin(admin.ModelAdmin):
    list_display = ("student", "link", "state", "attempts", "changed", "sent", "error")
    list_filter = ("state",)
    readonly_fields = ("payload", "error", "attempts", "sent", "changed")
