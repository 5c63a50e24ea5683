"""What every real-browser test shares: Debian's Chromium (never a downloaded browser), its flags,
and the marks that skip the test where Chromium is missing."""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Chromium is not installed (.ci/run installs it)"
    ),
]
# Playwright's sync API runs an event loop in this thread; Django's live server is a thread too.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
