"""Session lifetime (30 minutes idle, 12 hours in all) and the cookie flags of production."""

import os
import subprocess
import sys

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from accounts.models import AuditEvent
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, user):
    client.post("/login/", {"login": user.username, "password": PASSWORD})


def test_thirty_idle_minutes_end_the_session(client, user):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        sign_in(client, user)
        clock.shift(29 * 60)
        assert client.get("/settings/").status_code == 200  # activity resets the idle clock
        clock.shift(29 * 60)
        assert client.get("/settings/").status_code == 200
        clock.shift(31 * 60)
        response = client.get("/settings/", follow=True)

    assert response.redirect_chain[-1][0].startswith("/login/?next=/settings/")
    assert "Your session expired" in response.content.decode()
    assert AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.SESSION_EXPIRED).exists()


def test_twelve_hours_end_even_an_active_session(client, user):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        sign_in(client, user)
        for _ in range(12 * 60 // 20 - 1):
            clock.shift(20 * 60)
            assert client.get("/settings/").status_code == 200
        clock.shift(21 * 60)  # 12 h 1 min after signing in, 21 min after the last request
        assert client.get("/settings/")["Location"].startswith("/login/")


def test_views_within_a_minute_do_not_rewrite_the_session(client, user):
    from django.contrib.sessions.models import Session

    sign_in(client, user)
    stored = Session.objects.get(session_key=client.session.session_key).session_data
    client.get("/settings/")
    assert Session.objects.get(session_key=client.session.session_key).session_data == stored


def test_development_cookies_are_not_secure_only_but_http_only():
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"


def _production_settings(**env) -> subprocess.CompletedProcess:
    code = (
        "import django, json; from django.conf import settings; django.setup();"
        "print(json.dumps([settings.DEBUG, settings.SESSION_COOKIE_SECURE,"
        " settings.CSRF_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY]))"
    )
    environment = {
        key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "DEBUG")
    }
    environment.update(DJANGO_SETTINGS_MODULE="mojeid.settings", MOJEID_ENV="production", **env)
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60
    )


def test_production_refuses_the_development_secret():
    result = _production_settings(ALLOWED_HOSTS="mojeid.example")
    assert result.returncode != 0
    assert "Refusing to start in production with the development SECRET_KEY" in result.stderr


def test_production_sets_secure_cookie_flags(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("x7" * 40)
    result = _production_settings(ALLOWED_HOSTS="mojeid.example", SECRET_KEY_FILE=str(secret))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[false, true, true, true]"
