"""The scripts of the docker-compose stack, run here without Docker.

- deploy/make-secrets: the secrets of one installation, one env file per service, mode 600.
- deploy/postgres-init/: on a private PostgreSQL cluster made the way the postgres image makes
  it, the portal's and the simulator's roles each reach their own database only, by password.
- deploy/entrypoint.sh: the roles of the image, with stand-ins for python, gunicorn and celery.

Everything runs in temporary folders; the checkout is left as it was.
"""

import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SECRET_FILES = {
    "portal.env": {"SECRET_KEY", "DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL"},
    "govsim.env": {
        "SECRET_KEY",
        "DATABASE_URL",
        "CACHE_URL",
        "CELERY_BROKER_URL",
        "GOVSIM_NIA_PSEUDONYM_SECRET",
    },
    "govsim-api.env": {"GOVSIM_ROB_API_KEY", "GOVSIM_ISDS_API_KEY", "GOVSIM_NIA_API_KEY"},
    "postgres.env": {"POSTGRES_PASSWORD", "MOJEID_DB_PASSWORD", "GOVSIM_DB_PASSWORD"},
    "redis.env": {"REDIS_PASSWORD"},
    "govsim-redis.env": {"REDIS_PASSWORD"},
}
TOKEN = re.compile(r"[0-9a-f]{64}")


# --- deploy/make-secrets ----------------------------------------------------------------------


def _installation(folder: Path) -> Path:
    """A copy of the generator where a checkout keeps it; returns the deploy/ folder."""
    deploy = folder / "deploy"
    deploy.mkdir(parents=True)
    shutil.copy2(DEPLOY / "make-secrets", deploy)
    return deploy


def _make_secrets(deploy: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [deploy / "make-secrets", *args], capture_output=True, text=True, timeout=60
    )


def _read(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def _tokens(deploy: Path) -> set[str]:
    """Every random value of one installation."""
    text = "\n".join(path.read_text() for path in (deploy / "secrets").glob("*.env"))
    return set(TOKEN.findall(text))


def test_make_secrets_writes_one_private_env_file_per_service(tmp_path):
    deploy = _installation(tmp_path)
    made = _make_secrets(deploy)
    assert made.returncode == 0, made.stderr

    secrets = deploy / "secrets"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    assert sorted(path.name for path in secrets.iterdir()) == sorted(SECRET_FILES)
    for name, keys in SECRET_FILES.items():
        assert stat.S_IMODE((secrets / name).stat().st_mode) == 0o600, name
        assert set(_read(secrets / name)) == keys, name
        # Nobody should commit it: the file says so to whoever opens it.
        assert "Never commit" in (secrets / name).read_text()

    # The URLs carry the very passwords the servers are given.
    portal, govsim = _read(secrets / "portal.env"), _read(secrets / "govsim.env")
    postgres = _read(secrets / "postgres.env")
    redis, govsim_redis = _read(secrets / "redis.env"), _read(secrets / "govsim-redis.env")
    assert portal["DATABASE_URL"] == (
        f"postgres://mojeid:{postgres['MOJEID_DB_PASSWORD']}@postgres:5432/mojeid"
    )
    assert govsim["DATABASE_URL"] == (
        f"postgres://govsim:{postgres['GOVSIM_DB_PASSWORD']}@postgres:5432/govsim"
    )
    assert portal["CACHE_URL"] == f"redis://:{redis['REDIS_PASSWORD']}@redis:6379/1"
    assert portal["CELERY_BROKER_URL"] == f"redis://:{redis['REDIS_PASSWORD']}@redis:6379/0"
    assert govsim["CACHE_URL"] == (f"redis://:{govsim_redis['REDIS_PASSWORD']}@govsim-redis:6379/0")
    # Eleven secrets, each 256 random bits, no two alike.
    assert len(_tokens(deploy)) == 11


def test_make_secrets_refuses_to_replace_an_installations_secrets(tmp_path):
    deploy = _installation(tmp_path)
    assert _make_secrets(deploy).returncode == 0
    before = {path.name: path.read_bytes() for path in (deploy / "secrets").iterdir()}

    again = _make_secrets(deploy)

    assert again.returncode == 1
    assert "--force" in again.stderr
    after = {path.name: path.read_bytes() for path in (deploy / "secrets").iterdir()}
    assert after == before


def test_make_secrets_writes_nothing_when_part_of_a_set_exists(tmp_path):
    deploy = _installation(tmp_path)
    (deploy / "secrets").mkdir()
    (deploy / "secrets" / "redis.env").write_text("REDIS_PASSWORD=kept\n")

    made = _make_secrets(deploy)

    assert made.returncode == 1
    assert [path.name for path in (deploy / "secrets").iterdir()] == ["redis.env"]
    assert _read(deploy / "secrets" / "redis.env") == {"REDIS_PASSWORD": "kept"}


def test_make_secrets_force_replaces_every_secret_and_keeps_them_private(tmp_path):
    deploy = _installation(tmp_path)
    assert _make_secrets(deploy).returncode == 0
    old = _tokens(deploy)
    (deploy / "secrets" / "portal.env").chmod(0o644)

    made = _make_secrets(deploy, "--force")

    assert made.returncode == 0, made.stderr
    assert "docker compose down -v" in made.stdout  # the database keeps the old passwords
    assert len(_tokens(deploy)) == 11
    assert not _tokens(deploy) & old
    for path in (deploy / "secrets").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_two_installations_share_no_secret(tmp_path):
    first, second = _installation(tmp_path / "a"), _installation(tmp_path / "b")
    assert _make_secrets(first).returncode == 0
    assert _make_secrets(second).returncode == 0
    assert not _tokens(first) & _tokens(second)


def test_make_secrets_refuses_unknown_arguments(tmp_path):
    deploy = _installation(tmp_path)
    made = _make_secrets(deploy, "--frce")
    assert made.returncode == 2
    assert "usage" in made.stderr
    assert not (deploy / "secrets").exists()


def test_secrets_stay_out_of_git_and_the_image():
    assert "deploy/secrets/" in (ROOT / ".gitignore").read_text().splitlines()
    assert "deploy/secrets" in (ROOT / ".dockerignore").read_text().splitlines()


# --- deploy/postgres-init ---------------------------------------------------------------------


def _postgres_bin() -> Path | None:
    """The newest local PostgreSQL with a psql that knows \\getenv (15+), as in the image (16)."""
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if int(folder.parent.name) >= 15 and (folder / "initdb").exists():
            return folder
    return None


def _as_postgres_user() -> list[str] | None:
    """How to run the server here: PostgreSQL refuses to run as root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def database_server(tmp_path_factory) -> Iterator[dict]:
    """A cluster initialised like the postgres image does with the stack's settings: initdb with
    the compose file's POSTGRES_INITDB_ARGS, the image's catch-all host line, the init scripts run
    on the socket only, then the server opened on TCP. The passwords come from make-secrets."""
    bin_dir, runner = _postgres_bin(), _as_postgres_user()
    if bin_dir is None or runner is None:
        pytest.skip("needs PostgreSQL 15+ binaries and a non-root user to run them")
    initdb_args = re.search(
        r'POSTGRES_INITDB_ARGS: "([^"]*)"', (ROOT / "docker-compose.yml").read_text()
    )
    assert initdb_args, "docker-compose.yml should set POSTGRES_INITDB_ARGS"

    deploy = _installation(tmp_path_factory.mktemp("installation"))
    assert _make_secrets(deploy).returncode == 0
    passwords = _read(deploy / "secrets" / "postgres.env")

    # A short path: the server's socket lives here, and socket paths are limited to ~100 bytes.
    folder = Path(tempfile.mkdtemp(prefix="pg-", dir="/tmp"))
    if runner:
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
    data, port = folder / "data", _free_port()
    (folder / "pw").write_text(passwords["POSTGRES_PASSWORD"] + "\n")
    if runner:
        os.chown(folder / "pw", user.pw_uid, user.pw_gid)

    def run(*command: str, **env: str) -> subprocess.CompletedProcess:
        environment = {"PATH": f"{bin_dir}:/usr/bin:/bin", "LC_ALL": "C", **env}
        return subprocess.run(
            [*runner, "env", "-i", *(f"{k}={v}" for k, v in environment.items()), *command],
            capture_output=True,
            text=True,
            timeout=120,
        )

    def pg_ctl(action: str, listen: str) -> None:
        options = f"-c listen_addresses='{listen}' -c unix_socket_directories={folder} -p {port}"
        done = run(
            "pg_ctl", "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", action
        )
        assert done.returncode == 0, done.stdout + done.stderr

    made = run(
        "initdb",
        "-D",
        str(data),
        "--username=postgres",
        f"--pwfile={folder / 'pw'}",
        "--no-sync",  # a throw-away cluster: no need to wait for the disk
        *initdb_args[1].split(),
    )
    assert made.returncode == 0, made.stderr
    with open(data / "pg_hba.conf", "a") as hba:
        hba.write("\nhost all all all scram-sha-256\n")
    try:
        pg_ctl("start", "")
        for script in sorted((DEPLOY / "postgres-init").iterdir()):
            done = run(
                "sh",
                str(script),
                PGHOST=str(folder),
                PGPORT=str(port),
                PGPASSWORD=passwords["POSTGRES_PASSWORD"],
                POSTGRES_USER="postgres",
                POSTGRES_DB="postgres",
                MOJEID_DB_PASSWORD=passwords["MOJEID_DB_PASSWORD"],
                GOVSIM_DB_PASSWORD=passwords["GOVSIM_DB_PASSWORD"],
            )
            assert done.returncode == 0, done.stderr
        pg_ctl("stop", "")
        pg_ctl("start", "127.0.0.1")
        yield {"port": port, "socket": str(folder), "hba": data / "pg_hba.conf", **passwords}
    finally:
        run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _connect(server: dict, user: str, database: str, password: str | None, host="127.0.0.1"):
    return psycopg2.connect(
        host=host,
        port=server["port"],
        user=user,
        dbname=database,
        password=password or "",
        connect_timeout=5,
    )


def _whoami(server: dict, user: str, database: str, password: str) -> tuple:
    connection = _connect(server, user, database, password)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_user, current_database(), rolsuper FROM pg_roles "
                "WHERE rolname = current_user"
            )
            return cursor.fetchone()
    finally:
        connection.close()


def test_each_role_reaches_its_own_database_with_its_password(database_server):
    server = database_server
    assert _whoami(server, "mojeid", "mojeid", server["MOJEID_DB_PASSWORD"]) == (
        "mojeid",
        "mojeid",
        False,
    )
    assert _whoami(server, "govsim", "govsim", server["GOVSIM_DB_PASSWORD"]) == (
        "govsim",
        "govsim",
        False,
    )


@pytest.mark.parametrize(
    "user, database",
    [("mojeid", "govsim"), ("govsim", "mojeid"), ("mojeid", "postgres"), ("govsim", "postgres")],
)
def test_a_role_cannot_open_another_database(database_server, user, database):
    password = database_server[f"{user.upper()}_DB_PASSWORD"]
    with pytest.raises(psycopg2.OperationalError, match="permission denied"):
        _connect(database_server, user, database, password)


@pytest.mark.parametrize("password", [None, "wrong"])
def test_no_connection_without_the_password(database_server, password):
    with pytest.raises(psycopg2.OperationalError, match="password"):
        _connect(database_server, "mojeid", "mojeid", password)
    # Not over the server's own socket either (the image's default would trust it).
    with pytest.raises(psycopg2.OperationalError, match="password"):
        _connect(database_server, "postgres", "postgres", password, database_server["socket"])


# --- deploy/entrypoint.sh ---------------------------------------------------------------------


@pytest.fixture
def stand_ins(tmp_path) -> tuple[Path, Path]:
    """python, gunicorn and celery that only write down how they were called (python fails for
    the subcommand named in FAIL_ON, like a refused migration or seed)."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    for name in ("python", "gunicorn", "celery"):
        script = bin_dir / name
        script.write_text(
            "#!/bin/sh\n"
            f'echo "{name} $*" >> "{log}"\n'
            'if [ -n "${FAIL_ON:-}" ] && [ "${2:-}" = "$FAIL_ON" ]; then exit 1; fi\n'
        )
        script.chmod(0o755)
    return bin_dir, log


def _entrypoint(stand_ins: tuple[Path, Path], role: str, **env: str) -> tuple[int, list[str]]:
    bin_dir, log = stand_ins
    done = subprocess.run(
        ["sh", str(DEPLOY / "entrypoint.sh"), role],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return done.returncode, calls


def test_web_migrates_then_serves_the_portal(stand_ins):
    code, calls = _entrypoint(stand_ins, "web")
    assert code == 0
    assert calls[:2] == [
        "python manage.py migrate --no-input",
        "python manage.py load_fido_metadata",
    ]
    assert calls[2].startswith("gunicorn mojeid.wsgi --bind 0.0.0.0:8000 ")
    assert len(calls) == 3


def test_govsim_seeds_then_serves_the_simulator(stand_ins):
    code, calls = _entrypoint(stand_ins, "govsim", PORTAL_URL="http://localhost:8000")
    assert code == 0
    assert calls[:2] == [
        "python manage.py migrate --no-input",
        # The demo world follows GOVSIM_DEMO from the env file, not a flag fixed in the image.
        "python manage.py seed_govsim --portal-url http://localhost:8000",
    ]
    assert calls[2].startswith("gunicorn mojeid.wsgi --bind 0.0.0.0:8001 ")


def test_govsim_does_not_serve_when_the_seed_is_refused(stand_ins):
    # E.g. production settings without the API keys: the container stops and says why.
    code, calls = _entrypoint(stand_ins, "govsim", FAIL_ON="seed_govsim")
    assert code != 0
    assert not any(call.startswith("gunicorn") for call in calls)


@pytest.mark.parametrize(
    "role, command",
    [
        ("worker", "celery -A mojeid worker --loglevel=INFO --concurrency 2"),
        ("beat", "celery -A mojeid beat --loglevel=INFO --schedule /app/var/celerybeat-schedule"),
    ],
)
def test_celery_roles(stand_ins, role, command):
    code, calls = _entrypoint(stand_ins, role)
    assert (code, calls) == (0, [command])


# --- deploy/postgres-start.sh -----------------------------------------------------------------

HBA_COMMENT = '# METHOD can be "trust", "reject", "md5", "password", "scram-sha-256",\n'


def _start_postgres(tmp_path: Path, hba: str | None) -> tuple[subprocess.CompletedProcess, Path]:
    """The postgres service's command on a data folder with this pg_hba.conf (None: a new volume),
    with a stand-in for the image's entrypoint."""
    data, bin_dir, log = tmp_path / "data", tmp_path / "bin", tmp_path / "started"
    data.mkdir()
    bin_dir.mkdir()
    if hba is not None:
        (data / "pg_hba.conf").write_text(hba)
    entrypoint = bin_dir / "docker-entrypoint.sh"
    entrypoint.write_text(f'#!/bin/sh\necho "$*" > "{log}"\n')
    entrypoint.chmod(0o755)
    done = subprocess.run(
        ["sh", str(DEPLOY / "postgres-start.sh"), "postgres"],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "PGDATA": str(data)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done, log


@pytest.mark.parametrize(
    "hba",
    [
        None,  # the first start: the image initialises the volume with passwords
        HBA_COMMENT
        + "local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n"
        + "\nhost all all all scram-sha-256\n",
    ],
)
def test_postgres_starts_on_a_volume_that_asks_for_passwords(tmp_path, hba):
    done, log = _start_postgres(tmp_path, hba)
    assert done.returncode == 0, done.stderr
    assert log.read_text() == "postgres\n"


def test_postgres_starts_on_the_volume_the_stack_initialises(tmp_path, database_server):
    done, log = _start_postgres(tmp_path, database_server["hba"].read_text())
    assert done.returncode == 0, done.stderr
    assert log.read_text() == "postgres\n"


def test_postgres_refuses_a_volume_of_the_password_less_stack(tmp_path):
    # What the earlier stack's POSTGRES_HOST_AUTH_METHOD=trust left in the volume.
    old = HBA_COMMENT + "local all all trust\n\nhost all all all trust\n"
    done, log = _start_postgres(tmp_path, old)
    assert done.returncode == 1
    assert "docker compose down -v" in done.stderr
    assert not log.exists()
