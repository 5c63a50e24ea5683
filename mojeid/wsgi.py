"""WSGI entry point (gunicorn mojeid.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mojeid.settings")
application = get_wsgi_application()
