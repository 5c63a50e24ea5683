"""What a new user reads on the account pages: where an unconfirmed contact is confirmed, which
code goes into which field, links that say what they change, the icon of every page."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert (
        browser.post("/login/", {"login": user.username, "password": PASSWORD}).status_code == 302
    )
    return browser


def _links(page: str) -> dict[str, str]:
    """Each link's accessible name (its aria-label, else its text) → its address."""
    links = {}
    for attributes, text in re.findall(r"<a ([^>]*)>(.*?)</a>", page, flags=re.DOTALL):
        href = re.search(r'href="([^"]*)"', attributes)
        label = re.search(r'aria-label="([^"]*)"', attributes)
        name = label.group(1) if label else re.sub(r"<[^>]+>|\s+", " ", text).strip()
        links[name] = href.group(1) if href else ""
    return links


@pytest.fixture
def petr(make_user):
    """Like the demo `petr`: contacts typed at registration, never confirmed, no code waiting."""
    return make_user("petr", first_name="Petr", last_name="Dvořák", confirmed=False)


def test_unconfirmed_contacts_lead_to_confirming_them(petr, deliver):
    browser = _signed_in(petr)

    links = _links(browser.get("/settings/").content.decode())

    assert links["Confirm e-mail"] == "/account/confirm/#email"
    assert links["Confirm phone"] == "/account/confirm/#phone"
    assert links["Confirm your contacts"] == "/account/confirm/"
    page = browser.get("/account/confirm/").content.decode()
    assert 'id="email"' in page and 'id="phone"' in page
    assert page.count('action="/account/confirm/email/resend/"') == 1
    assert page.count('action="/account/confirm/phone/resend/"') == 1

    browser.post("/account/confirm/email/resend/")
    page = browser.get("/account/confirm/").content.decode()

    assert '<label for="code-email">PIN1 from the e-mail</label>' in page
    assert [message.to for message in deliver()[0]] == [["petr@example.cz"]]


def test_a_confirmed_account_has_no_confirm_links(user):
    links = _links(_signed_in(user).get("/settings/").content.decode())

    assert "Confirm e-mail" not in links and "Confirm your contacts" not in links


def test_the_two_code_fields_say_which_code_goes_where(client, deliver):
    client.post(
        "/register/",
        {
            "username": "zdenek",
            "first_name": "Zdeněk",
            "last_name": "Příliš",
            "email": "zdenek@example.cz",
            "phone": "+420 777 123 456",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    page = client.get("/account/confirm/").content.decode()

    labels = re.findall(r'<label for="code-(\w+)">([^<]+)</label>', page)
    assert labels == [("email", "PIN1 from the e-mail"), ("phone", "PIN2 from the SMS")]


def test_the_change_links_say_what_they_change(user):
    links = _links(_signed_in(user).get("/settings/").content.decode())

    assert links["Change e-mail"] == "/settings/contact/email/"
    assert links["Change phone"] == "/settings/contact/phone/"
    assert links["Change password"] == "/settings/password/"
    assert "Change" not in links, "no link is named just “Change”"


@pytest.mark.parametrize("path", ["/", "/login/", "/register/"])
def test_every_page_names_an_icon_that_exists(client, path):
    page = client.get(path).content.decode()

    icon = re.search(r'<link rel="icon" href="/static/([^"]+)" type="image/svg\+xml">', page)
    assert icon, "without a link the browser asks for /favicon.ico and gets a 404"
    assert finders.find(icon.group(1))


def test_public_administration_access_of_keys_agrees_in_czech(user):
    """The key list's column is "Přístup ke službám veřejné správy" (masculine): an ineligible
    key's value reads "Nedostupný", an eligible one offers "Získat"."""
    import uuid

    from twofactor.models import SecurityKey

    for number, eligible in ((1, True), (2, False)):
        SecurityKey.objects.create(
            user=user,
            name=f"Klíč {number}",
            credential_id=f"credential-{number}",
            public_key=b"x",
            aaguid=uuid.UUID(int=number),
            attestation_format="packed",
            attestation_object=b"",
            key_type="hardware",
            nia_eligible=eligible,
        )

    page = _czech_settings(user)

    assert "Přístup ke službám veřejné správy" in page
    assert "Získat" in page and "Nedostupný" in page
    assert "Nedostupná" not in page and "Nedostupné" not in page


def _czech_settings(user) -> str:
    """The settings page in Czech, signed in as after the key's sign-in step."""
    from django_otp import DEVICE_ID_SESSION_KEY

    browser = Client(HTTP_ACCEPT_LANGUAGE="cs")
    browser.force_login(user)
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = user.security_keys.first().persistent_id
    session.save()
    return browser.get("/settings/").content.decode()


def test_pages_that_name_no_icon_get_the_portals_favicon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"].endswith("/favicon.svg")
