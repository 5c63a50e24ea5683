"""Every page in Czech (the default) and English, with a switch and names with diacritics."""

import pytest
from django.test import Client

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

PAGES = ["/", "/login/", "/register/", "/password/forgotten/"]
SIGNED_IN_PAGES = [
    "/settings/",
    "/settings/profile/",
    "/settings/password/",
    "/settings/contact/email/",
    "/settings/contact/phone/",
    "/account/confirm/",
    "/account/reauthenticate/",
]


def _signed_in(make_user, language: str) -> Client:
    make_user("jana", first_name="Jana", last_name="Příliš Žluťoučká")
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    browser.post("/login/", {"login": "jana", "password": PASSWORD})
    return browser


def test_czech_is_the_default_without_a_preference():
    page = Client().get("/login/").content.decode()
    assert '<html lang="cs">' in page
    assert "Přihlásit se" in page


@pytest.mark.parametrize("path", PAGES)
def test_public_pages_follow_the_browser_language(path):
    czech = Client(HTTP_ACCEPT_LANGUAGE="cs,en;q=0.8").get(path).content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9,cs;q=0.5").get(path).content.decode()

    assert '<html lang="cs">' in czech and "Založit účet" in czech
    assert '<html lang="en">' in english and "Create account" in english


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
@pytest.mark.parametrize(("language", "word"), [("cs", "Nastavení"), ("en", "Settings")])
def test_signed_in_pages_exist_in_both_languages(make_user, path, language, word):
    browser = _signed_in(make_user, language)
    page = browser.get(path).content.decode()
    assert f'<html lang="{language}">' in page
    assert word in page  # the header link, in the page's language
    assert "Jana Příliš Žluťoučká" in page  # the name with its diacritics, intact


def test_the_switch_changes_the_language_and_the_account_remembers_it(make_user, deliver):
    browser = _signed_in(make_user, "cs")
    assert "Nastavení" in browser.get("/settings/").content.decode()

    response = browser.post("/i18n/setlang/", {"language": "en", "next": "/settings/"})

    assert response["Location"] == "/settings/"
    page = browser.get("/settings/").content.decode()
    assert '<html lang="en">' in page and "Two-factor authentication" in page
    # Messages sent later, outside any request, are in the chosen language.
    browser.post("/settings/contact/email/", {"email": "jana.nova@example.cz"})
    assert deliver()[0][-1].subject == "Your MojeID confirmation code"


def test_emails_and_sms_go_out_in_the_language_of_registration(deliver):
    browser = Client(HTTP_ACCEPT_LANGUAGE="cs")
    browser.post(
        "/register/",
        {
            "username": "zdenek",
            "first_name": "Zdeněk",
            "last_name": "Příliš",
            "email": "zdenek@example.cz",
            "phone": "777 123 456",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    emails, texts = deliver()
    assert emails[0].subject == "Potvrzovací kód pro MojeID"
    assert emails[0].body.startswith("Dobrý den,")
    assert "Nikomu ho nesdělujte" in texts[0]["text"]


def test_a_czech_form_error_is_in_czech():
    page = Client(HTTP_ACCEPT_LANGUAGE="cs").post("/login/", {"login": "x", "password": "y"})
    assert "Nesprávné uživatelské jméno nebo heslo" in page.content.decode()
