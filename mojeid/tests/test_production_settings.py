"""What the production settings refuse and what they turn on by themselves.

Each case imports `mojeid.settings` in a fresh interpreter with only the given environment, as
gunicorn would start.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "MOJEID_ENV": "production",
    "SECRET_KEY": "p" * 64,
    "ALLOWED_HOSTS": "mojeid.example",
    "DATABASE_URL": "postgres://mojeid@db.example:5432/mojeid",
    "CACHE_URL": "redis://:password@redis.example:6379/1",
}
SHOW = (
    "from django.conf import settings as s; "
    "print(s.CACHES['default']['BACKEND'], s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS)"
)


def _settings(tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "mojeid.settings",
        "VAR_DIR": str(tmp_path),
        **{name: value for name, value in env.items() if value is not None},
    }
    code = f"import django; django.setup(); {SHOW}"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("cache", [None, "", "locmem://"])
def test_production_refuses_to_start_without_a_shared_cache(tmp_path, cache):
    result = _settings(tmp_path, **{**PRODUCTION, "CACHE_URL": cache})

    assert result.returncode != 0
    assert "without a shared cache" in result.stderr


def test_production_uses_redis_and_speaks_https_only_by_default(tmp_path):
    result = _settings(tmp_path, **PRODUCTION)

    assert result.returncode == 0, result.stderr
    backend, redirect, hsts = result.stdout.split()
    assert backend == "mojeid.cache.RedisCache"
    assert (redirect, int(hsts)) == ("True", 365 * 24 * 3600)


def test_behind_a_tls_proxy_the_redirect_and_hsts_are_turned_off_explicitly(tmp_path):
    result = _settings(tmp_path, **PRODUCTION, SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1:] == ["False", "0"]


def test_development_keeps_its_one_process_cache_and_plain_http(tmp_path):
    result = _settings(tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.cache.backends.locmem.LocMemCache",
        "False",
        "0",
    ]
