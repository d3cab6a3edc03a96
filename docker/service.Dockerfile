# The submission service's web image (autograder serve's pages under gunicorn): the engine with its
# `server` extra. No TensorFlow and no sandbox here: the web process never grades. Workers run
# `autograder worker` on grading hosts (see docs/service.md).
#
#   docker build -f docker/service.Dockerfile -t tf-autograder-service .
FROM python:3.11-slim-bookworm
COPY pyproject.toml README.md /src/
COPY requirements/ /src/requirements/
COPY docker/requirements-tensorflow.txt /src/docker/requirements-tensorflow.txt
COPY autograder/ /src/autograder/
RUN pip install --no-cache-dir '/src[server]' && useradd --system --uid 10001 --home /srv service
USER service
ENV DJANGO_SETTINGS_MODULE=autograder.service.settings AUTOGRADER_COURSE=/course \
    AUTOGRADER_SERVICE_HOME=/srv/service AUTOGRADER_HTTPS=1 AUTOGRADER_PROXY_STATIC=1 \
    AUTOGRADER_STATIC_ROOT=/srv/static
EXPOSE 8000
CMD ["sh", "-c", "python -m django collectstatic --noinput -v0 && exec gunicorn autograder.service.wsgi --bind 0.0.0.0:8000 --workers 3 --access-logfile -"]
