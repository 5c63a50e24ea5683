"""The Czech POINT route in a real browser, as the help page tells it: add a key, Get access,
Continue (a fresh sign-in with password and key), Visit a Czech POINT office, Show request; the
clerk files it at the desk; the e-mail arrives; Get access, the table, Complete, the message,
the locked profile. Debian's Chromium with a virtual authenticator; the simulated register and
NIA over real HTTP on the same live server."""

import re
from io import StringIO

import pytest
from django.db import connections

from accounts.models import Profile
from conftest import PASSWORD

from .browser import BROWSER_MARKS

pytestmark = BROWSER_MARKS


@pytest.fixture
def state_systems(live_server, settings):
    from govsim.nia import seed as nia_seed
    from govsim.rob import seed as rob_seed
    from govsim.rob.tests.factories import make_citizen

    rob_seed.seed_portal()
    nia_seed.seed(live_server.url)
    make_citizen()  # Jana Nováková in the register
    settings.STATE_SYSTEMS = {
        name: {**entry, "url": f"{live_server.url}/sim/{name}/api/v1/"}
        for name, entry in settings.STATE_SYSTEMS.items()
    }


def test_access_to_public_administration_through_a_czech_point_office(
    browser_page, state_systems, make_user, deliver
):
    try:
        _czech_point_route(browser_page, make_user, deliver)
    finally:
        connections.close_all()  # the greenlet's own connection (see test_browser_keys)


def _czech_point_route(browser_page, make_user, deliver):
    from django.core.management import call_command

    from govsim.rob import services as rob_services
    from govsim.rob.models import Citizen, Recipient
    from govsim.rob.tests.factories import make_clerk
    from nia_link import matching

    call_command("load_fido_metadata", "--development", stdout=StringIO())
    user = make_user("jana", first_name="Jana", last_name="Novakova")
    Profile.objects.filter(pk=user.pk).update(
        street="Vinohradska 1511", city="Praha", postal_code="10000"
    )
    page, origin = browser_page

    page.goto(f"{origin}/login/")
    page.fill("#id_login", "jana")
    page.fill("#id_password", PASSWORD)
    page.click("button.button")
    page.wait_for_url(f"{origin}/settings/")
    page.goto(f"{origin}/settings/keys/add/")
    page.fill("#key-name", "Klíč od úřadu")
    page.click("#webauthn-register button[type=submit]")
    page.wait_for_url(re.compile(r".*/settings/keys/\d+/$"))

    # Settings → Get access → Continue: the sign-in had no key yet, so it is asked for again.
    page.goto(f"{origin}/settings/#public-administration")
    page.click("#public-administration a.button")
    page.click("section[aria-labelledby=level-substantial] a.button")
    page.wait_for_url(f"{origin}/account/reauthenticate/")
    assert "You are requesting access to public administration services." in page.text_content(
        "main"
    )
    page.fill("#id_password", PASSWORD)
    page.click("main button.button")
    page.wait_for_url(f"{origin}/settings/public-administration/substantial/")
    assert "Visit a Czech POINT office" in page.text_content("main")
    page.click("main button.button")  # Show request
    page.wait_for_url(f"{origin}/settings/public-administration/request/show/")
    code = page.text_content(".request-code").strip()
    assert "Data provision from the Register of inhabitants to another person" in page.text_content(
        "main"
    )
    assert page.locator(".qr svg").count() == 1

    # The clerk files the form at the desk; the portal's task reads it; the e-mail arrives.
    rob_services.file_provision(
        recipient=Recipient.objects.get(),
        request_code=code,
        citizen=Citizen.objects.get(),
        clerk=make_clerk(),
        office="Praha 1",
    )
    assert matching.match_provisions().verified == 1
    emails, _ = deliver()
    assert "Your identity has been verified" in [email.subject for email in emails]

    page.goto(f"{origin}/settings/#public-administration")
    page.click("#public-administration a.button")  # Get access
    page.wait_for_url(f"{origin}/settings/public-administration/complete/")
    table = page.text_content("table.compare")
    assert "Nováková" in table and "Vinohradská 1511/230" in table
    page.click("main button.button")  # Complete
    page.wait_for_url(f"{origin}/settings/#public-administration")
    main = page.text_content("main")
    assert (
        "The option to log in to public administration services using MojeID is now enabled."
        in main
    )
    assert "Your identity data are locked" in main
    assert "Nováková" in page.text_content("#profile")
    assert "Active" in page.text_content("table.keys")
