"""WSGI entry point for a production server: ``gunicorn autograder.service.wsgi``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autograder.service.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
