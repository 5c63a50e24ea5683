"""What the benchmarks share: Django on the test settings with a database of their own, and
percentiles. Imported first by each `bench/*.py`, which are run as scripts."""

import os
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def start_django(database: str) -> None:
    """Set Django up for a benchmark whose scratch database is `database` (created and dropped
    by the benchmark itself, like a test database)."""
    # bench/webauthn.py would shadow the `webauthn` package: take bench/ off the path.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mojeid.settings_test")
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{database}")
    os.environ["DEBUG"] = "0"
    import django

    django.setup()


def percentile_ms(samples: list[float], fraction: float, digits: int = 3) -> float:
    """The `fraction` percentile of `samples` (seconds), in milliseconds."""
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, digits)


@contextmanager
def state_systems_on_loopback() -> Iterator[str]:
    """A scratch database of the benchmark's own (created, then dropped), the portal with the
    embedded simulator served on a threaded WSGI server on loopback, and the portal's clients
    pointed at it; yields the server's address."""
    from django.conf import settings
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application
    from django.db import connection, connections
    from django.test.utils import setup_test_environment

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            pass

    class Server(ThreadedWSGIServer):
        def get_request(self):
            # wsgiref sends a response's headers and its body in two writes: with Nagle's
            # algorithm the body waits for the client's delayed ACK (~40 ms on loopback) on every
            # request. Servers in front of Django (nginx, gunicorn) set TCP_NODELAY; so here.
            connection, address = super().get_request()
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return connection, address

    setup_test_environment(debug=False)
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    server = Server(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(get_wsgi_application())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        settings.STATE_SYSTEMS = {
            name: {**entry, "url": f"{url}/sim/{name}/api/v1/"}
            for name, entry in settings.STATE_SYSTEMS.items()
        }
        yield url
    finally:
        server.shutdown()
        connections.close_all()
        connection.creation.destroy_test_db(test_db, verbosity=0)
