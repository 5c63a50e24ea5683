# The portal image: web (gunicorn), Celery worker and beat, and the simulator all run from it (see
# deploy/entrypoint.sh). It holds no secret: .dockerignore keeps deploy/secrets/ out, and the
# services get theirs from env files at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=mojeid.settings \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app
COPY . .
# /app/var/sms exists in the image so that the empty `sms` volume mounted there starts owned by
# the mojeid user, like the `var` volume above it.
RUN pip install -e . \
    && useradd --system --uid 1000 --home /app mojeid \
    && mkdir -p /app/var/sms \
    && DEBUG=1 python manage.py collectstatic --no-input --verbosity 0 \
    && chown -R mojeid /app/var

USER mojeid
EXPOSE 8000
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["web"]
