"""Run the development stack in one terminal: web, Celery worker and beat; Ctrl-C stops all.

The web server answers at http://localhost:8000, the address printed: browsers use security keys
only on a name, never on a bare IP address such as 127.0.0.1 (which the development middleware
redirects to localhost anyway).
"""

import contextlib
import ipaddress
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

# Bound to the loopback interface only; "localhost" is also what the browser must be given.
DEFAULT_ADDRPORT = "localhost:8000"


def browser_url(addrport: str) -> str:
    """Where to open the portal: at its name, and at localhost for any IP address (0.0.0.0 too)."""
    host, _sep, port = addrport.rpartition(":")
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host.strip("[]"))
        host = ""  # an address, not a name: browsers refuse security keys there
    return f"http://{host or 'localhost'}:{port}/"


def banner(addrport: str) -> str:
    """The line that tells the developer where to open the portal."""
    return f"MojeID is starting at {browser_url(addrport)} — Ctrl-C stops everything."


class Command(BaseCommand):
    help = "Start the development web server, a Celery worker and beat; Ctrl-C stops them all."

    def add_arguments(self, parser):
        parser.add_argument("--addrport", default=DEFAULT_ADDRPORT)

    def handle(self, *args, addrport: str, **options):
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", addrport],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "mojeid",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-mingle",
                "--without-gossip",
            ],
            "beat": [python, "-m", "celery", "-A", "mojeid", "beat", "--loglevel=INFO"],
        }
        # Our own fixed argv, nothing from outside.
        processes = {name: subprocess.Popen(argv) for name, argv in commands.items()}  # noqa: S603
        self.stdout.write(banner(addrport))
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with status {process.returncode}.")
                        stopping = True
                time.sleep(0.5)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            deadline = time.monotonic() + 10
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
        self.stdout.write("Stopped.")
