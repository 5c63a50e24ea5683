"""The docker-compose stack: the file validates and has every service the README promises."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = shutil.which("docker-compose")

pytestmark = pytest.mark.skipif(
    COMPOSE is None, reason="docker-compose is not installed (.ci/run installs it)"
)


def test_compose_file_validates_with_every_service_and_health_check():
    result = subprocess.run(
        [COMPOSE, "config"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    rendered = result.stdout
    for service in ("web", "worker", "beat", "govsim", "postgres", "redis", "mailpit"):
        assert f"\n  {service}:\n" in rendered, f"service {service} missing"
    assert rendered.count("healthcheck:") == 7
    assert "8000" in rendered and "8001" in rendered and "8025" in rendered
    # The simulator runs on its own URLconf and database; the portal does not embed it.
    assert "ROOT_URLCONF: govsim.standalone_urls" in rendered
    assert "postgres:5432/govsim" in rendered
    assert "GOVSIM_EMBEDDED: '0'" in rendered or 'GOVSIM_EMBEDDED: "0"' in rendered
    # The env file reaches the portal containers: production settings with a generated secret.
    assert "MOJEID_ENV: production" in rendered
    assert "SECRET_KEY_FILE: /run/mojeid/secret_key" in rendered
    assert "SECRET_KEY:" not in rendered
