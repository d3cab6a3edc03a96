"""The Django admin: the staff's back office."""

from django.contrib import admin

from autograder.service.models import (Assignment, Extension, LmsMember, LmsRoster, Override, Profile, SignInLink,
                                       Submission, WorkerBeat)


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("name", "title", "due", "open", "hidden_results", "published")
    list_editable = ("open", "published")
    # the due date is set on the assignment's staff page (or course.toml): there its change is
    # checked, recomputes the counted scores and reaches the LMS (docs/policies.md)
    readonly_fields = ("due",)


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "display_name", "role")
    list_filter = ("role",)
    search_fields = ("user__username", "display_name")


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("id", "assignment", "student", "state", "score", "max_score", "created", "worker")
    list_filter = ("state", "assignment")
    search_fields = ("student__username", "sha256")
    readonly_fields = [f.name for f in Submission._meta.fields]

    def get_queryset(self, request):   # the list leaves the logs out; one submission's page loads its own
        return super().get_queryset(request).defer("log")

    def has_add_permission(self, request):
        return False


@admin.register(SignInLink)
class SignInLinkAdmin(admin.ModelAdmin):
    list_display = ("user", "created", "expires", "used")
    readonly_fields = ("user", "token_sha256", "created", "expires", "used")

    def has_add_permission(self, request):
        return False


@admin.register(WorkerBeat)
class WorkerBeatAdmin(admin.ModelAdmin):
    list_display = ("worker", "backend", "started", "last_seen")
    readonly_fields = ("worker", "backend", "started", "last_seen")


@admin.register(Override)
class OverrideAdmin(admin.ModelAdmin):
    list_display = ("assignment", "student", "score", "reason", "by", "created")
    list_filter = ("assignment",)
    search_fields = ("student__username", "reason")

from autograder.service import lti_admin  # noqa: E402,F401 - the LTI side (platforms, links, score posts)

class LmsMemberInline(admin.TabularInline):
    model = LmsMember
    fields = ("lms_id", "user")
    readonly_fields = ("lms_id", "user")
    extra = 0
    can_delete = False


@admin.register(LmsRoster)
class LmsRosterAdmin(admin.ModelAdmin):
    """The LMS's roster files as uploaded (the staff page uploads them): shown, never edited here."""

    list_display = ("assignment", "kind", "filename", "column", "missing_as_zero", "uploaded", "by")
    readonly_fields = [f.name for f in LmsRoster._meta.fields]
    inlines = [LmsMemberInline]

    def has_add_permission(self, request):
        return False


@admin.register(Extension)
class ExtensionAdmin(admin.ModelAdmin):
    """Extensions as granted and revoked on the staff pages: history, never edited here."""

    list_display = ("assignment", "student", "until", "reason", "by", "created", "revoked", "revoked_by")
    list_filter = ("assignment",)
    search_fields = ("student__username", "reason")
    readonly_fields = [f.name for f in Extension._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
