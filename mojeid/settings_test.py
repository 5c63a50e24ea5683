"""Settings for the test suite: the real PostgreSQL and Redis at their standard local addresses.

Each default can be overridden from the environment (`DATABASE_URL`, `CACHE_URL`, …), so a
developer whose services listen elsewhere points the tests at them without editing files.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mojeid")
os.environ.setdefault("CACHE_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")
os.environ.setdefault("SMS_BACKEND", "mojeid.sms.LocmemSmsBackend")

from .settings import *  # noqa: F403

# Tests drive language negotiation themselves; start every request from the default.
LANGUAGE_COOKIE_NAME = "django_language"
# The live server answers each request in a new thread; persistent connections would outlive them
# and keep the test database busy at teardown.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
