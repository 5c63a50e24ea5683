"""Fixtures of the real-browser tests."""

import pytest

from .browser import ARGS, CHROMIUM


@pytest.fixture
def browser_page(live_server, settings):
    """(page, origin): Chromium at the live server's localhost address, with a virtual USB key
    (CTAP2, user verification) that answers WebAuthn as a real key would."""
    from playwright.sync_api import sync_playwright

    settings.WEBAUTHN_RP_ID = "localhost"
    settings.WEBAUTHN_ORIGINS = [live_server.url.replace("127.0.0.1", "localhost")]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send(
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
        yield page, settings.WEBAUTHN_ORIGINS[0]
        browser.close()
