#!/bin/sh
# One image, four roles: web (migrates, then gunicorn), worker, beat, and govsim (the simulator).
# Secrets come from the environment: docker-compose.yml passes each service its own env files,
# made once per installation by deploy/make-secrets.
set -eu

case "${1:-web}" in
  web)
    python manage.py migrate --no-input
    # The bundled FIDO metadata at once (offline, idempotent); the daily refresh brings the BLOB.
    python manage.py load_fido_metadata
    exec gunicorn mojeid.wsgi --bind 0.0.0.0:8000 --workers "${WEB_WORKERS:-2}" \
      --access-logfile - --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}"
    ;;
  govsim)
    # The simulated state systems on their own (ROOT_URLCONF=govsim.standalone_urls, own database).
    # The seed registers the portal's API keys (GOVSIM_*_API_KEY) and, with GOVSIM_DEMO=1 only,
    # loads the demo world.
    python manage.py migrate --no-input
    python manage.py seed_govsim --portal-url "${PORTAL_URL:-http://localhost:8000}"
    exec gunicorn mojeid.wsgi --bind 0.0.0.0:8001 --workers "${WEB_WORKERS:-2}" \
      --access-logfile - --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}"
    ;;
  worker)
    exec celery -A mojeid worker --loglevel=INFO --concurrency "${WORKER_CONCURRENCY:-2}"
    ;;
  beat)
    exec celery -A mojeid beat --loglevel=INFO --schedule /app/var/celerybeat-schedule
    ;;
  *)
    exec "$@"
    ;;
esac
