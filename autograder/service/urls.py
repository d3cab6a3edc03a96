"""The service's URLs."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.contrib.staticfiles.views import serve

from autograder.service import lti_views, views

app_name = "service"

service = [
    path("", views.home, name="home"),
    path("signin/", views.signin_help, name="signin-help"),
    path("signin/<str:token>/", views.signin, name="signin"),
    path("signout/", views.signout, name="signout"),
    path("a/<str:name>/", views.assignment, name="assignment"),
    path("a/<str:name>/submit/", views.submit, name="submit"),
    path("s/<uuid:submission_id>/", views.submission, name="submission"),
    path("s/<uuid:submission_id>/state/", views.submission_state, name="submission-state"),
    path("s/<uuid:submission_id>/feedback/", views.feedback, name="feedback"),
    path("staff/", views.dashboard, name="dashboard"),
    path("staff/a/<str:name>/", views.staff_assignment, name="staff-assignment"),
    path("staff/a/<str:name>/publish/", views.publish, name="publish"),
    path("staff/a/<str:name>/regrade/", views.regrade, name="regrade"),
    path("staff/a/<str:name>/override/", views.override, name="override"),
    path("staff/a/<str:name>/export/<str:kind>", views.export, name="export"),
    path("staff/a/<str:name>/extension/", views.extension, name="extension"),
    path("staff/a/<str:name>/due/", views.set_due, name="due"),
    *lti_views.urlpatterns,   # LTI 1.3 (docs/lti.md)
    path("staff/a/<str:name>/lms-roster/", views.lms_roster, name="lms-roster"),
    path("staff/a/<str:name>/lms/<str:kind>", views.lms_export, name="lms-export"),
    path("staff/a/<str:name>/plot/<str:which>", views.plot, name="plot"),
]

urlpatterns = [
    path("", include((service, "service"))),
    path("admin/", admin.site.urls),
]

if settings.SERVE_STATIC:   # the embedded server; behind a proxy, the proxy serves collectstatic's folder
    urlpatterns.append(re_path(r"^static/(?P<path>.*)$", serve, {"insecure": True}))
