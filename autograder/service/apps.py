"""The Django app of the submission service."""

from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "autograder.service"
    label = "service"
    verbose_name = "Course submissions"
    default_auto_field = "django.db.models.BigAutoField"
