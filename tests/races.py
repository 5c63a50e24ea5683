"""N identical requests at once, over real HTTP, on either database the portal runs on.

`race(calls)` starts every call in its own thread behind a barrier, so that they really reach the
server together, and returns the responses in order; `Browser.later(…)` makes one such call with
a browser's cookies. `assert_no_server_error` is the one check every race makes: no 5xx and no
traceback, whatever else the test expects ("exactly one effect").

Two portals to race against, with one interface (`browser()`, `call()`):

- `LivePortal`: pytest-django's live server in this process, on the test suite's PostgreSQL.
- `SqlitePortal`: the embedded default of `make run` — development settings, SQLite, local-memory
  cache, the file broker — in a subprocess started by `python -m tests.races <var dir>`: a threaded
  WSGI server (as runserver's) that also answers `call()`s on its standard input. `call` runs a
  function of the test module *inside the portal's process*, so that the same preparation and
  checks serve both portals. `make_template` migrates and seeds one database per test session;
  each `SqlitePortal` serves its own copy (`copy_database`).
"""

import importlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

BASE_DIR = Path(__file__).resolve().parent.parent
TIMEOUT_SECONDS = 60
# How the server process's own lines start, among anything else it may print.
READY, ANSWER = "READY ", "ANSWER "
# What of this process's environment the portal's process keeps: nothing that configures it.
PASSED_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")


# --- the race -------------------------------------------------------------------------------------


def race(calls: Sequence[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run every call in its own thread, all released at once by a barrier; their responses."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], requests.Response]) -> requests.Response:
        barrier.wait(timeout=TIMEOUT_SECONDS)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def assert_no_server_error(responses: Sequence[requests.Response], log: str = "") -> None:
    """No response is a 5xx or shows a traceback (`log`: the server's, shown when one does)."""
    for response in responses:
        body = response.text
        assert response.status_code < 500 and "Traceback" not in body, (
            f"{response.request.method} {response.url} answered {response.status_code}:\n"
            f"{body[:2000]}\n{log[-4000:]}"
        )


def statuses(responses: Sequence[requests.Response]) -> list[int]:
    """The responses' statuses, sorted: what a test compares with the outcome it expects."""
    return sorted(response.status_code for response in responses)


# --- a browser ------------------------------------------------------------------------------------


class Browser:
    """One browser (its cookies) talking to a portal over HTTP. Redirects are not followed.

    `post(path, body, content_type=…, headers=…)` has the signature of Django's test client, so
    the software Klíč app (`twofactor.tests.softklic`) calls a live portal through it.
    """

    def __init__(self, base_url: str, host: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Accept-Language"] = "en"
        if host:  # the address connected to is not the name the portal is served under
            self.session.headers["Host"] = host

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", TIMEOUT_SECONDS)
        return self.session.request(method, self.base_url + path, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(
        self,
        path: str,
        data: bytes | dict | None = None,
        *,
        content_type: str | None = None,
        headers: dict | None = None,
    ) -> requests.Response:
        headers = dict(headers or {})
        if content_type:
            headers["Content-Type"] = content_type
        return self.request("POST", path, data=data, headers=headers)

    def csrf_token(self, page: str) -> str:
        """The CSRF token, fetching `page` (one with a form) first if no cookie has it yet."""
        if "csrftoken" not in self.session.cookies:
            self.get(page)
        return self.session.cookies["csrftoken"]

    def submit(self, path: str, fields: dict, *, page: str | None = None) -> requests.Response:
        """Post a form as the page would, with the CSRF token (taken from `page`, else `path`)."""
        token = self.csrf_token(page or path)
        return self.post(path, {**fields, "csrfmiddlewaretoken": token})

    def later(self, method: str, path: str, **kwargs) -> Callable[[], requests.Response]:
        """This request, to be sent later from any thread, with the cookies the browser has now.

        Each call opens its own connection, as parallel tabs (or a double click) would.
        """
        url, cookies = self.base_url + path, self.session.cookies.get_dict()
        headers = {**self.session.headers, **kwargs.pop("headers", {})}

        def send() -> requests.Response:
            with requests.Session() as session:
                return session.request(
                    method,
                    url,
                    cookies=cookies,
                    headers=headers,
                    allow_redirects=False,
                    timeout=TIMEOUT_SECONDS,
                    **kwargs,
                )

        return send


# --- the portals ----------------------------------------------------------------------------------


def _call(function: str, kwargs: dict):
    """Call "package.module:function" with `kwargs`; its result as JSON would carry it."""
    module, _, name = function.partition(":")
    return json.loads(json.dumps(getattr(importlib.import_module(module), name)(**kwargs)))


class LivePortal:
    """The test suite's live server (PostgreSQL); `call` runs the function in this process."""

    def __init__(self, live_server):
        self.url = live_server.url
        self.log = ""

    def browser(self) -> Browser:
        return Browser(self.url)

    def call(self, function: str, **kwargs):
        return _call(function, kwargs)


def portal_environment(var_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of `make run`'s embedded default, its files under `var_dir`."""
    environment = {name: os.environ[name] for name in PASSED_ENVIRONMENT if name in os.environ}
    environment.update(
        DJANGO_SETTINGS_MODULE="mojeid.settings",
        VAR_DIR=str(var_dir),
        DATABASE_URL=f"sqlite:///{var_dir / 'db.sqlite3'}",
        PYTHONUNBUFFERED="1",
    )
    environment.update(overrides)
    return environment


def make_template(var_dir: Path) -> Path:
    """A migrated SQLite database under `var_dir`, the simulator seeded as `make run` seeds it
    but without the demo world (the races make their own people; its passwords take seconds)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "tests.races", str(var_dir), "--migrate"],
        cwd=BASE_DIR,
        env=portal_environment(var_dir, GOVSIM_DEMO="0"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return var_dir / "db.sqlite3"


def copy_database(source: Path, var_dir: Path) -> None:
    """A consistent copy of the database `source` as `var_dir`/db.sqlite3 (SQLite's backup)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as original, sqlite3.connect(var_dir / "db.sqlite3") as copy:
        original.backup(copy)
    original.close()
    copy.close()


class SqlitePortal:
    """The embedded default (SQLite) served by a subprocess; `call` runs inside that process."""

    def __init__(self, var_dir: Path, **environment: str):
        self.var_dir = var_dir
        self.log_path = var_dir / "server.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.races", str(var_dir)],
            cwd=BASE_DIR,
            env=portal_environment(var_dir, **environment),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self._lock = threading.Lock()
        port = self._read(READY)
        self.url = f"http://127.0.0.1:{port}"
        # Served under the name `make run` prints: the portal redirects 127.0.0.1 in development.
        self.host = f"localhost:{port}"

    @property
    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def browser(self) -> Browser:
        return Browser(self.url, host=self.host)

    def call(self, function: str, **kwargs):
        """Run `function` ("package.module:function") in the portal's process; its result."""
        with self._lock:
            self.process.stdin.write(json.dumps({"call": function, "kwargs": kwargs}) + "\n")
            self.process.stdin.flush()
            answer = json.loads(self._read(ANSWER))
        if "error" in answer:
            raise AssertionError(f"{function} failed in the portal's process:\n{answer['error']}")
        return answer["result"]

    def _read(self, prefix: str) -> str:
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(f"the portal's process ended:\n{self.log[-4000:]}")
            if line.startswith(prefix):
                return line[len(prefix) :].strip()

    def stop(self) -> None:
        self.process.terminate()  # a test server: nothing to finish
        self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout, self._log):
            stream.close()


# --- the portal's process -------------------------------------------------------------------------


def _serve() -> None:
    """`python -m tests.races <var dir> [--migrate]`, with the environment `SqlitePortal` sets.

    --migrate: migrate and seed the simulator, as `make run` does, and end. Otherwise serve the
    portal on a free port of 127.0.0.1 (one thread a request), say `READY <port>`, then run each
    JSON line of standard input ({"call": "module:function", "kwargs": {…}}) and answer
    `ANSWER {"result": …}` or `ANSWER {"error": traceback}`, until standard input closes.
    """
    import traceback

    import django

    django.setup()
    from django.core.management import call_command
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application
    from django.db import connections

    if "--migrate" in sys.argv:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_govsim", verbosity=0)
        return

    class Server(ThreadedWSGIServer):
        request_queue_size = 64  # a race's connections all arrive at once

    server = Server(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(get_wsgi_application())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"{READY}{server.server_port}", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = {"result": _call(request["call"], request["kwargs"])}
        except Exception:
            answer = {"error": traceback.format_exc()}
        finally:
            connections.close_all()  # no transaction or lock of the caller outlives the call
        print(ANSWER + json.dumps(answer), flush=True)
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    _serve()
