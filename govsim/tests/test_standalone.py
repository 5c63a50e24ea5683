"""The simulator on its own (the `govsim` service of docker-compose): its URLconf, without the
portal's session rules, which would send its users to portal pages that do not exist there."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import django
django.setup()
from django.conf import settings
from django.urls import resolve, reverse
assert settings.GOVSIM_STANDALONE and not settings.GOVSIM_EMBEDDED
assert not [m for m in settings.MIDDLEWARE if m.startswith(("accounts.", "django_otp."))]
for path in ("/healthz", "/rob/api/v1/changes", "/isds/", "/nia/saml/metadata/", "/czechpoint/",
             "/klic/", "/outbox/", "/admin/"):
    resolve(path)
print(reverse("govsim:klic"), reverse("govsim_admin:index"))
print(resolve("/").view_name, resolve("/nia/").view_name)
"""


def test_the_standalone_simulator_serves_every_system_without_the_portals_middleware():
    env = {**os.environ, "ROOT_URLCONF": "govsim.standalone_urls"}
    env["DJANGO_SETTINGS_MODULE"] = "mojeid.settings_test"

    result = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["/klic/", "/admin/", "govsim:home", "govsim:nia:home"]
