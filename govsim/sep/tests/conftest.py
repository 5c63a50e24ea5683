"""Fixtures of the demo service's tests: NIA's test keys and citizens with eObčanky (NIA's own
fixtures), the service's keys in a temporary VAR_DIR, and a browser driving the whole round
trip — service → NIA → service — through the Django test client."""

import base64
import html
import re

import pytest
from django.test import Client
from django.urls import reverse
from lxml import etree

from govsim.nia.tests.conftest import (  # noqa: F401 (fixtures)
    PIN,
    _idp_keys,
    card_of,
    idp_key_files,
    make_citizen,
    posted_form,
)
from govsim.rob.models import Citizen


@pytest.fixture(scope="session")
def sep_var_dir(tmp_path_factory):
    """One VAR_DIR for the run: the service's key pair is made once, never under var/."""
    return tmp_path_factory.mktemp("sep-var")


@pytest.fixture(autouse=True)
def _sep_keys(settings, sep_var_dir):
    settings.VAR_DIR = sep_var_dir


@pytest.fixture
def browser(db) -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


HOME = "/sim/sep/"


def saml_request_xml(page) -> etree._Element:
    """The AuthnRequest the service's auto-posting page carries."""
    _, fields = posted_form(page)
    return etree.fromstring(base64.b64decode(fields["SAMLRequest"]))


def to_nia(browser: Client, level: str = "substantial") -> str:
    """Sign-in posted at the service, its AuthnRequest posted to NIA: NIA's login page."""
    page = browser.post(HOME, {"level": level})
    action, fields = posted_form(page)
    assert action == reverse("govsim:nia:sso") or action.endswith(reverse("govsim:nia:sso"))
    started = browser.post(action, fields)
    assert started.status_code == 302, started.content.decode()[:2000]
    return started["Location"]


def nia_answer(browser: Client, citizen: Citizen, level: str = "substantial") -> dict[str, str]:
    """The whole login at NIA with the citizen's eObčanka: NIA's answer (form fields) to post."""
    login = to_nia(browser, level)
    assert browser.get(login).status_code == 200
    entered = browser.post(login + "eobcanka/", {"card_number": card_of(citizen), "pin": PIN})
    assert entered["Location"] == login + "consent/", entered.content.decode()[:2000]
    assert browser.get(login + "consent/").status_code == 200
    action, fields = posted_form(browser.post(login + "consent/", {"decision": "consent"}))
    assert action.endswith(reverse("govsim:sep:acs"))
    return fields


def post_answer(browser: Client, fields: dict[str, str]):
    return browser.post(reverse("govsim:sep:acs"), fields)


def text(response) -> str:
    """The page's text without tags, entities decoded, spaces collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(body).split())


def shown_field(response, name: str) -> str:
    """The text of a fact the landing page shows (`data-field="…"`), tags stripped."""
    match = re.search(rf'data-field="{name}">(.*?)</dd>', response.content.decode(), re.S)
    assert match, f"the page shows no {name}"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()
