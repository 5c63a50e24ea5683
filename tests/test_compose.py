"""The docker-compose stack: the file validates, has every service the README promises, and gives
each service its own secrets and credentials, made per installation by deploy/make-secrets.

The stack is rendered with `docker-compose config` in a temporary copy of the repository's compose
file and deploy/ (secrets generated there), so the checkout is left as it was. There is no Docker
engine here: what the containers do with this configuration is tested in test_deploy_scripts.py.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = shutil.which("docker-compose")

pytestmark = pytest.mark.skipif(
    COMPOSE is None, reason="docker-compose is not installed (.ci/run installs it)"
)

PORTAL_SERVICES = ("web", "worker", "beat")
APP_SERVICES = (*PORTAL_SERVICES, "govsim")
POSTGRES_URL = re.compile(
    r"^postgres://(?P<user>[\w-]+):(?P<password>[^@\s]+)@postgres:5432/(?P<db>\w+)$"
)
REDIS_URL = re.compile(r"redis://(?P<auth>[^@\s/]*@)?(?P<host>[\w.-]+):6379/\d+")


class Stack:
    """The rendered configuration of a freshly generated installation."""

    def __init__(self, folder: Path, rendered: str):
        self.folder = folder
        self.rendered = rendered
        self.services = _service_blocks(rendered)

    def env(self, service: str) -> dict[str, str]:
        return _environment(self.services[service])

    def secrets_file(self, name: str) -> dict[str, str]:
        return _read_env_file(self.folder / "deploy" / "secrets" / name)


def _service_blocks(rendered: str) -> dict[str, str]:
    """The text of each service under `services:` of the rendered file, by name."""
    blocks: dict[str, list[str]] = {}
    current = None
    in_services = False
    for line in rendered.splitlines():
        if line and not line.startswith(" "):  # empty lines occur inside quoted scalars
            in_services = line == "services:"
            current = None
        elif in_services and re.fullmatch(r"  [\w-]+:", line):
            current = line.strip()[:-1]
            blocks[current] = []
        elif current:
            blocks[current].append(line)
    return {name: "\n".join(lines) for name, lines in blocks.items()}


def _environment(block: str) -> dict[str, str]:
    """The `environment:` mapping of one rendered service (YAML scalars, as docker-compose writes
    them: plain, single- or double-quoted, long ones folded onto deeper-indented lines)."""
    env: dict[str, str] = {}
    lines = block.splitlines()
    if "    environment:" not in lines:
        return env
    key = None
    for line in lines[lines.index("    environment:") + 1 :]:
        if line.startswith("      ") and not line.startswith("       ") and ": " in line:
            key, value = line.strip().split(": ", 1)
            env[key] = value
        elif line.startswith("        ") and key:
            env[key] += " " + line.strip()
        else:
            break
    return {name: _unquote(value) for name, value in env.items()}


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"')
    return value


def _read_env_file(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def _copy_without_secrets(folder: str, names: list[str]) -> list[str]:
    """Leave a developer's own deploy/secrets/ behind: the copy gets freshly generated ones."""
    return ["secrets"] if Path(folder) == ROOT / "deploy" else []


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    folder = tmp_path_factory.mktemp("stack")
    shutil.copy2(ROOT / "docker-compose.yml", folder)
    shutil.copytree(ROOT / "deploy", folder / "deploy", ignore=_copy_without_secrets)
    generator = folder / "deploy" / "make-secrets"
    assert generator.exists(), "deploy/make-secrets should generate the stack's secrets"
    made = subprocess.run([generator], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    result = subprocess.run(
        [COMPOSE, "config"], capture_output=True, text=True, timeout=60, cwd=folder
    )
    assert result.returncode == 0, result.stderr
    return Stack(folder, result.stdout)


def test_compose_file_validates_with_every_service_and_health_check(stack):
    rendered = stack.rendered
    services = ("web", "worker", "beat", "govsim", "postgres", "redis", "govsim-redis", "mailpit")
    for service in services:
        assert service in stack.services, f"service {service} missing"
        assert "    healthcheck:" in stack.services[service], f"{service} has no health check"
    assert rendered.count("healthcheck:") == len(services)
    assert "8000" in rendered and "8001" in rendered and "8025" in rendered
    # The simulator runs on its own URLconf and database; the portal does not embed it.
    assert stack.env("govsim")["ROOT_URLCONF"] == "govsim.standalone_urls"
    assert stack.env("govsim")["DATABASE_URL"].endswith("@postgres:5432/govsim")
    for service in APP_SERVICES:
        env = stack.env(service)
        assert env["GOVSIM_EMBEDDED"] == "0"
        # Production settings, with the secret key of this installation rather than a file the
        # first container to start would have to write.
        assert env["MOJEID_ENV"] == "production"
        assert "SECRET_KEY_FILE" not in env


def test_postgresql_asks_every_connection_for_a_password(stack):
    assert not re.search(r"\btrust\b", stack.rendered), "trust authentication in the stack"
    for committed in [ROOT / "docker-compose.yml", *(ROOT / "deploy").glob("*.env")]:
        assert not re.search(r"\btrust\b", committed.read_text()), committed
    for script in (ROOT / "deploy" / "postgres-init").iterdir():
        assert not re.search(r"\btrust\b", script.read_text()), script
    postgres = stack.env("postgres")
    assert "POSTGRES_HOST_AUTH_METHOD" not in postgres
    # Passwords over the socket inside the container too, not only over the network.
    assert "--auth-local=scram-sha-256" in postgres["POSTGRES_INITDB_ARGS"]
    assert "--auth-host=scram-sha-256" in postgres["POSTGRES_INITDB_ARGS"]
    assert len(postgres["POSTGRES_PASSWORD"]) >= 32
    # The superuser is not the portal's role: the portal's role cannot read the simulator's data.
    assert postgres.get("POSTGRES_USER", "postgres") not in {"mojeid", "govsim"}


def test_each_application_gets_its_own_database_role_and_password(stack):
    postgres = stack.env("postgres")
    expected = {
        "mojeid": postgres["MOJEID_DB_PASSWORD"],
        "govsim": postgres["GOVSIM_DB_PASSWORD"],
    }
    assert expected["mojeid"] != expected["govsim"]
    for service in APP_SERVICES:
        url = POSTGRES_URL.match(stack.env(service)["DATABASE_URL"])
        assert url, f"{service} has no database URL with credentials"
        role = "govsim" if service == "govsim" else "mojeid"
        assert (url["user"], url["db"]) == (role, role), service
        assert url["password"] == expected[role], f"{service}: not the password of role {role}"


def test_redis_servers_require_a_password_and_every_client_gives_it(stack):
    passwords = {}
    for server in ("redis", "govsim-redis"):
        block = stack.services[server]
        passwords[server] = stack.env(server)["REDIS_PASSWORD"]
        assert len(passwords[server]) >= 32
        assert "requirepass $$REDIS_PASSWORD" in block, f"{server} starts without a password"
        # The health check authenticates: PING without the password answers NOAUTH.
        assert 'REDISCLI_AUTH="$$REDIS_PASSWORD" redis-cli ping | grep -q PONG' in block
    assert passwords["redis"] != passwords["govsim-redis"]

    urls = list(REDIS_URL.finditer(stack.rendered))
    assert len(urls) == 2 * len(APP_SERVICES)  # a cache and a broker each
    for url in urls:
        assert url["auth"] == f":{passwords[url['host']]}@", f"{url[0]} lacks the password"
    for service in APP_SERVICES:
        server = "govsim-redis" if service == "govsim" else "redis"
        for name in ("CACHE_URL", "CELERY_BROKER_URL"):
            url = REDIS_URL.fullmatch(stack.env(service)[name])
            assert url and url["host"] == server, f"{service} {name} is not on {server}"


def test_portal_and_simulator_have_different_secret_keys_from_different_files(stack):
    portal_key = stack.secrets_file("portal.env")["SECRET_KEY"]
    govsim_key = stack.secrets_file("govsim.env")["SECRET_KEY"]
    assert portal_key != govsim_key
    for service in PORTAL_SERVICES:
        assert stack.env(service)["SECRET_KEY"] == portal_key, service
    assert stack.env("govsim")["SECRET_KEY"] == govsim_key
    for key in (portal_key, govsim_key):
        assert len(key) >= 50  # what the production settings demand


def test_no_service_sees_another_services_secrets(stack):
    portal = stack.secrets_file("portal.env")
    govsim = stack.secrets_file("govsim.env")
    shared = stack.secrets_file("govsim-api.env")
    postgres = stack.secrets_file("postgres.env")
    portal_only = [
        portal["SECRET_KEY"],
        postgres["MOJEID_DB_PASSWORD"],
        stack.env("redis")["REDIS_PASSWORD"],
    ]
    govsim_only = [
        govsim["SECRET_KEY"],
        govsim["GOVSIM_NIA_PSEUDONYM_SECRET"],
        postgres["GOVSIM_DB_PASSWORD"],
        stack.env("govsim-redis")["REDIS_PASSWORD"],
    ]
    seen = {name: "\n".join(stack.env(name).values()) for name in stack.services}
    for secret in portal_only:
        assert secret not in seen["govsim"] and secret not in seen["govsim-redis"]
    for secret in govsim_only:
        for service in (*PORTAL_SERVICES, "redis"):
            assert secret not in seen[service], f"{service} sees a secret of the simulator"
    # The database server creates both roles, but holds no application's secret key.
    assert portal["SECRET_KEY"] not in seen["postgres"]
    assert govsim["SECRET_KEY"] not in seen["postgres"]
    assert seen["mailpit"] == ""
    # The portal's API keys at the simulated systems are the one thing both sides know.
    for name in ("GOVSIM_ROB_API_KEY", "GOVSIM_ISDS_API_KEY", "GOVSIM_NIA_API_KEY"):
        assert len(shared[name]) >= 32
        for service in APP_SERVICES:
            assert stack.env(service)[name] == shared[name], f"{service} lacks {name}"


def test_no_secret_is_in_the_committed_files(stack):
    committed = "\n".join(
        path.read_text() for path in [ROOT / "docker-compose.yml", *(ROOT / "deploy").glob("*.env")]
    )
    for name in ("portal.env", "govsim.env", "govsim-api.env", "postgres.env"):
        for value in stack.secrets_file(name).values():
            assert value not in committed


def test_developer_stack_serves_plain_http_and_the_demo_world(stack):
    # http://localhost without TLS: production's HTTPS redirect and HSTS are switched off here,
    # explicitly, for every service that serves or renders links.
    for service in APP_SERVICES:
        env = stack.env(service)
        assert env["SECURE_SSL_REDIRECT"] == "0", service
        assert env["SECURE_HSTS_SECONDS"] == "0", service
    # The simulator loads its demo citizens and logins because it is asked to; the portal has no
    # such switch.
    assert stack.env("govsim")["GOVSIM_DEMO"] == "1"
    for service in PORTAL_SERVICES:
        assert "GOVSIM_DEMO" not in stack.env(service)
