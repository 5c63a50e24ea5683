"""MojeID Klíč end to end in a real browser: the portal in one tab, the simulated phone app in
another, both in Debian's Chromium driven by Playwright.

The citizen sets the app up (QR content pasted into the simulator), confirms the pairing by
signing in again, signs out, and signs in with password + an approval in the app; the portal's
waiting page continues by itself. Then a denial leaves the browser signed out.
"""

import re

import pytest
from django.db import connections

from conftest import PASSWORD

from .browser import ARGS, BROWSER_MARKS, CHROMIUM

pytestmark = BROWSER_MARKS

PIN = "7391"


@pytest.fixture
def tabs(live_server):
    from playwright.sync_api import sync_playwright

    origin = live_server.url.replace("127.0.0.1", "localhost")  # WebCrypto needs a secure context
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        portal = browser.new_context(locale="en-GB").new_page()
        phone = browser.new_context(locale="en-GB").new_page()  # its own storage, like a phone
        for page in (portal, phone):
            page.set_default_timeout(20_000)
        try:
            yield portal, phone, origin
        finally:
            browser.close()
            # The sync API runs on a greenlet with a database connection of its own.
            connections.close_all()


def sign_in(portal, origin) -> None:
    portal.goto(f"{origin}/login/")
    portal.fill("#id_login", "jana")
    portal.fill("#id_password", PASSWORD)
    portal.click("main button.button")


def test_set_up_then_sign_in_approved_in_the_simulated_app_then_a_denial(tabs, make_user):
    make_user("jana", first_name="Jana", last_name="Nováková")
    portal, phone, origin = tabs

    # Set up: the portal shows the QR content, the app pairs with it.
    sign_in(portal, origin)
    portal.wait_for_url(f"{origin}/settings/")
    portal.goto(f"{origin}/settings/")
    portal.click("#two-factor form[action$='/settings/klic/set/'] button")
    portal.wait_for_url(f"{origin}/settings/klic/set/")
    portal.click("details summary")
    qr_content = portal.text_content("#qr-content").strip()
    assert qr_content.startswith("mojeidklic:activate?")

    # The phone is on another origin (127.0.0.1, as the standalone simulator would be on its own
    # port): its calls to the portal's API are cross-origin and need the API's CORS answers.
    phone.goto(f"{origin.replace('localhost', '127.0.0.1')}/sim/klic/")
    phone.fill("#pair-input", qr_content)
    phone.fill("#pin", PIN)
    phone.fill("#pin-again", PIN)
    phone.click("#pair-button")
    phone.wait_for_selector("#screen-waiting:not([hidden])")

    # The portal's set-up page notices the pairing and asks to sign in again.
    portal.wait_for_url(f"{origin}/settings/klic/confirm/")
    portal.fill("#id_password", PASSWORD)
    portal.click("main button.button")
    portal.wait_for_url(re.compile(r".*/settings/#two-factor$"))
    assert "MojeID Klíč is set" in portal.text_content("main")
    phone.wait_for_selector("#screen-requests:not([hidden])")

    # Sign in again: the page waits for the app and continues by itself.
    portal.click("header button.link")  # sign out
    sign_in(portal, origin)
    portal.wait_for_url(f"{origin}/login/klic/")
    phone.wait_for_selector("#requests .request")
    assert "MojeID" in phone.text_content("#requests .request")
    phone.click("#requests .request .approve")
    phone.fill("#approve-pin", PIN)
    phone.click("#approve-confirm")
    portal.wait_for_url(f"{origin}/settings/")
    assert "Jana Nováková" in portal.text_content("header")

    # A denied sign-in leaves the browser signed out, and says so.
    portal.click("header button.link")
    sign_in(portal, origin)
    portal.wait_for_url(f"{origin}/login/klic/")
    phone.wait_for_selector("#requests .request")
    phone.click("#requests .request .deny")
    portal.wait_for_selector("#klic-login [role=alert]:not([hidden])")
    assert "denied" in portal.text_content("#klic-login [role=alert]")
    assert portal.url == f"{origin}/login/klic/"
