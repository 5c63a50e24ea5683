"""Fixtures of the real-browser tests."""

from dataclasses import dataclass
from typing import Any

import pytest

from .browser import ARGS, CHROMIUM


@dataclass
class BrowserSession:
    """The page, its localhost origin, and the DevTools session that holds its virtual key
    (`authenticator_id`), for tests that handle the key's credentials themselves."""

    page: Any
    origin: str
    cdp: Any
    authenticator_id: str


@pytest.fixture
def browser_session(live_server, settings):
    """Chromium at the live server's localhost address, with a virtual USB key (CTAP2, user
    verification) that answers WebAuthn as a real key would."""
    from playwright.sync_api import sync_playwright

    settings.WEBAUTHN_RP_ID = "localhost"
    settings.WEBAUTHN_ORIGINS = [live_server.url.replace("127.0.0.1", "localhost")]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        added = cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "usb",
                    "hasResidentKey": False,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                }
            },
        )
        page.set_default_timeout(15_000)
        yield BrowserSession(page, settings.WEBAUTHN_ORIGINS[0], cdp, added["authenticatorId"])
        browser.close()


@pytest.fixture
def browser_page(browser_session):
    """(page, origin): the page of `browser_session` and its localhost origin."""
    return browser_session.page, browser_session.origin
