"""A real browser adds a security key, signs in with it, and removes it after re-authenticating.

Debian's Chromium, driven by Playwright (the system browser; nothing is downloaded), with a CDP
virtual authenticator that answers navigator.credentials like a USB key with direct attestation.
The development metadata supplement vouches for that authenticator as certified L1.
"""

import re
from io import StringIO

import pytest
from django.db import connections

from conftest import PASSWORD

from .browser import BROWSER_MARKS

pytestmark = BROWSER_MARKS


def test_a_key_is_registered_used_to_sign_in_and_removed_after_reauthentication(
    browser_page, make_user
):
    try:
        _register_and_sign_in(browser_page, make_user)
    finally:
        # Playwright's sync API runs the test on a greenlet, where Django keeps a database
        # connection of its own; close it here, or it keeps the test database busy at teardown.
        connections.close_all()


def _register_and_sign_in(browser_page, make_user):
    from django.core.management import call_command

    call_command("load_fido_metadata", "--development", stdout=StringIO())
    make_user("jana", first_name="Jana", last_name="Nováková")
    page, origin = browser_page

    page.goto(f"{origin}/login/")
    page.fill("#id_login", "jana")
    page.fill("#id_password", PASSWORD)
    page.click("button.button")
    page.wait_for_url(f"{origin}/settings/")

    page.goto(f"{origin}/settings/keys/add/")
    page.fill("#key-name", "Virtuální klíč")
    page.click("#webauthn-register button[type=submit]")
    try:
        page.wait_for_url(re.compile(r".*/settings/keys/\d+/$"))
    except Exception:
        pytest.fail(
            f"no key page; the form says: {page.text_content('#webauthn-register [role=alert]')!r}"
        )
    detail = page.text_content("main")
    assert "Chromium virtual authenticator (development)" in detail
    assert "Can be used" in detail and "L1" in detail

    page.goto(f"{origin}/settings/")
    row = page.text_content("table.keys")
    assert "Virtuální klíč" in row and "Get" in row

    page.click("header button.link")  # sign out
    page.goto(f"{origin}/login/")
    page.fill("#id_login", "jana")
    page.fill("#id_password", PASSWORD)
    page.click("button.button")
    page.wait_for_url(f"{origin}/login/key/")
    assert "Confirm with your security key" in page.text_content("h1")
    page.click("#webauthn-login button[type=submit]")
    page.wait_for_url(f"{origin}/settings/")
    assert "Jana Nováková" in page.text_content("header")

    # Six minutes later the sudo window is closed: removing the key needs the password and the key.
    import time_machine
    from django.utils import timezone

    from twofactor.models import SecurityKey

    key = SecurityKey.objects.get()
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=6)):
        page.goto(f"{origin}/settings/keys/{key.pk}/")
        page.click("p.remove a")
        page.wait_for_url(f"{origin}/settings/keys/{key.pk}/remove/")
        assert "You will no longer be able to sign in with" in page.text_content("main")
        page.click("form.remove button")
        page.wait_for_url(f"{origin}/account/reauthenticate/")
        assert "You are removing a security key." in page.text_content("main")
        assert "confirm with your security key" in page.text_content("main")
        page.fill("#id_password", PASSWORD)
        page.click("main button.button")
        page.wait_for_url(f"{origin}/settings/#two-factor")
        assert "The security key is removed." in page.text_content("main")
    assert not SecurityKey.objects.exists()


def test_on_a_bare_ip_address_the_page_says_where_security_keys_work(browser_page, make_user):
    """Browsers refuse WebAuthn at http://127.0.0.1:…; the page names the localhost address."""
    page, origin = browser_page
    address = origin.replace("localhost", "127.0.0.1")
    make_user("jana")
    try:
        page.goto(f"{address}/login/")
        page.fill("#id_login", "jana")
        page.fill("#id_password", PASSWORD)
        page.click("button.button")
        page.wait_for_url(f"{address}/settings/")

        page.goto(f"{address}/settings/keys/add/")
        page.click("#webauthn-register button[type=submit]")
        alert = page.locator("#webauthn-register [role=alert]")
        alert.wait_for(state="visible")
        message = alert.text_content()
    finally:
        connections.close_all()

    assert "do not work at an IP address" in message
    assert f"{origin}/settings/keys/add/" in message
