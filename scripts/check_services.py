"""Say clearly when PostgreSQL or Redis, which the tests need, are not reachable."""

import os
import socket
import sys
from urllib.parse import urlparse

SERVICES = {
    "PostgreSQL": (
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mojeid"),
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
        "DATABASE_URL",
    ),
    "Redis": (
        os.environ.get("CACHE_URL", "redis://127.0.0.1:6379/14"),
        "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no",
        "CACHE_URL",
    ),
}


def reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=2):
            return True
    except OSError:
        return False


def main() -> int:
    missing = [
        f"{name} is not reachable at {url}. Start it, e.g.: {how}\n"
        f"  (or point the tests elsewhere with {variable})"
        for name, (url, how, variable) in SERVICES.items()
        if not reachable(url)
    ]
    for line in missing:
        print(line, file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
