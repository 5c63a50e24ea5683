# The portal image: web (gunicorn), Celery worker and beat all run from it (see deploy/entrypoint.sh).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=mojeid.settings \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app
COPY . .
RUN pip install -e . \
    && useradd --system --uid 1000 --home /app mojeid \
    && mkdir -p /app/var /run/mojeid \
    && DEBUG=1 python manage.py collectstatic --no-input --verbosity 0 \
    && chown -R mojeid /app/var /run/mojeid

USER mojeid
EXPOSE 8000
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["web"]
