"""MojeID Klíč end to end in a real browser: the portal in one tab, the simulated phone app in
another, both in Debian's Chromium driven by Playwright.

The citizen sets the app up (QR content pasted into the simulator), confirms the pairing by
signing in again, signs out, and signs in with password + an approval in the app, picking there
the number the portal's page shows; the waiting page continues by itself. Then a wrong pick and a
denial each leave the browser signed out.
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


def shown_number(portal) -> int:
    """The number the portal's waiting page tells the user to pick in the app."""
    number = portal.locator("#klic-login [data-role=number]")
    number.wait_for(state="visible")
    assert "Pick this number in MojeID Klíč" in portal.text_content("#klic-login")
    return int(number.text_content().strip())


def test_set_up_then_sign_in_approved_in_the_app_then_a_wrong_pick_and_a_denial(tabs, make_user):
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
    number = shown_number(portal)
    phone.wait_for_selector("#requests .request")
    assert "MojeID" in phone.text_content("#requests .request")
    offered = phone.locator("#requests .request .number").all_text_contents()
    assert len(offered) == 3 and str(number) in offered
    phone.click(f'#requests .request .number[data-number="{number}"]')
    phone.fill("#approve-pin", PIN)
    phone.click("#approve-confirm")
    portal.wait_for_url(f"{origin}/settings/")
    assert "Jana Nováková" in portal.text_content("header")

    # A wrong pick (say, a prompt the user did not start) denies the sign-in at once.
    portal.click("header button.link")
    sign_in(portal, origin)
    portal.wait_for_url(f"{origin}/login/klic/")
    number = shown_number(portal)
    phone.wait_for_selector("#requests .request")
    phone.click(f'#requests .request .number:not([data-number="{number}"])')
    phone.fill("#approve-pin", PIN)
    phone.click("#approve-confirm")
    phone.wait_for_selector("#error:not([hidden])")
    assert "not the number your browser shows" in phone.text_content("#error")
    portal.wait_for_selector("#klic-login [role=alert]:not([hidden])")
    assert "denied" in portal.text_content("#klic-login [role=alert]")
    assert portal.locator("#klic-login [data-role=number-box]").is_hidden()
    assert portal.url == f"{origin}/login/klic/"
    assert phone.locator("#requests .request").count() == 0

    # A denied sign-in leaves the browser signed out, and says so.
    sign_in(portal, origin)
    portal.wait_for_url(f"{origin}/login/klic/")
    phone.wait_for_selector("#requests .request")
    phone.click("#requests .request .deny")
    portal.wait_for_selector("#klic-login [role=alert]:not([hidden])")
    assert "denied" in portal.text_content("#klic-login [role=alert]")
    assert portal.url == f"{origin}/login/klic/"
