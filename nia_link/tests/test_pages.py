"""The Access to public administration services section, as a citizen goes through it: Get access,
the level with what it needs, Continue after a fresh sign-in, Visit a Czech POINT office, Show
request, Cancel request."""

import pytest
import time_machine
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import Profile
from conftest import PASSWORD
from czechpoint import request_code as desk
from nia_link.models import Link, LinkState
from twofactor.models import KlicDevice

pytestmark = pytest.mark.django_db

SETTINGS = "/settings/"
GET_ACCESS = "/settings/public-administration/"
SUBSTANTIAL = "/settings/public-administration/substantial/"
SHOW = "/settings/public-administration/request/show/"
CANCEL = "/settings/public-administration/request/cancel/"


@pytest.fixture
def citizen(client, make_user, sign_in_verified):
    """Signed in a moment ago with password and MojeID Klíč; a complete profile."""
    user = make_user("jana")
    Profile.objects.filter(pk=user.pk).update(
        street="Vinohradská 1511/230", city="Praha", postal_code="10000"
    )
    sign_in_verified(client, user)
    return user


def test_the_section_offers_get_access_and_the_level_page_says_what_is_missing(client, citizen):
    Profile.objects.filter(pk=citizen.pk).update(organisation="Firma s.r.o.")

    section = client.get(SETTINGS).content.decode()
    levels = client.get(GET_ACCESS).content.decode()

    assert "Get access" in section and GET_ACCESS in section
    assert "Leave the Organisation field empty" in levels
    assert SUBSTANTIAL not in levels, "no Continue while something is missing"


def test_a_czech_point_request_from_get_access_to_the_printed_request(client, citizen):
    levels = client.get(GET_ACCESS).content.decode()
    routes = client.get(SUBSTANTIAL)
    filed = client.post(SUBSTANTIAL, {"route": "czech_point"})
    shown = client.get(SHOW).content.decode()
    section = client.get(SETTINGS).content.decode()

    link = Link.objects.get(user=citizen)
    assert SUBSTANTIAL in levels
    assert "Visit a Czech POINT office" in routes.content.decode()
    assert filed["Location"] == SHOW
    assert (link.state, link.level, link.route) == (
        LinkState.REQUESTED,
        "substantial",
        "czech_point",
    )
    assert desk.is_well_formed(link.request_code)
    assert link.request_code in shown and "<svg" in shown
    assert "Data provision from the Register of inhabitants to another person" in shown
    assert "Jana Nováková" in shown
    assert (
        link.request_code in section and "Show request" in section and "Cancel request" in section
    )


def test_continue_needs_a_fresh_sign_in(client, citizen):
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=20), tick=False):
        asked = client.get(SUBSTANTIAL)
        posted = client.post(SUBSTANTIAL, {"route": "czech_point"})

    assert asked["Location"].startswith("/account/reauthenticate/")
    assert posted["Location"].startswith("/account/reauthenticate/")
    assert not Link.objects.exists()


def test_a_second_click_files_nothing_more_and_cancel_request_ends_it(client, citizen):
    client.post(SUBSTANTIAL, {"route": "czech_point"})
    again = client.post(SUBSTANTIAL, {"route": "czech_point"})
    cancelled = client.post(CANCEL, follow=True)

    assert again["Location"] == "/settings/#public-administration"
    assert Link.objects.get().state == LinkState.CANCELLED
    assert "Your request has been cancelled." in cancelled.content.decode()
    assert "Get access" in cancelled.content.decode()
    assert client.get(SHOW)["Location"] == "/settings/#public-administration"


@pytest.mark.parametrize("route", ["", "data_box_x", "eobcanka\x00"])
def test_an_unknown_route_is_a_form_error(client, citizen, route):
    response = client.post(SUBSTANTIAL, {"route": route})

    assert response.status_code == 400
    assert "Choose how you want to verify your identity." in response.content.decode()
    assert not Link.objects.exists()


def test_an_unknown_level_is_not_found(client, citizen):
    assert client.get("/settings/public-administration/highest/").status_code == 404


def test_a_sign_in_with_the_password_alone_does_not_count_even_if_a_factor_came_later(
    client, make_user
):
    user = make_user("petr")
    Profile.objects.filter(pk=user.pk).update(
        street="Vinohradská 1511/230", city="Praha", postal_code="10000"
    )
    client.post("/login/", {"login": "petr", "password": PASSWORD})  # no factor yet
    device = KlicDevice.objects.create(user=user, confirmed=True, public_key=b"k", pin_verifier="v")
    session = client.session  # as setting the app up leaves it: verified by the new factor
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()

    settings_page = client.get("/settings/")
    response = client.get(SUBSTANTIAL)

    assert settings_page.status_code == 200, "still signed in"

    assert response["Location"].startswith("/account/reauthenticate/")


HIGH = "/settings/public-administration/high/"
DATA_BOX = "/settings/public-administration/data-box/"


def test_each_level_offers_its_routes_and_high_has_no_data_box(client, citizen):
    substantial = client.get(SUBSTANTIAL).content.decode()
    high = client.get(HIGH).content.decode()

    for route in (
        "Visit a Czech POINT office",
        "Use data box",
        "Using an existing authentication method",
    ):
        assert route in substantial
    assert "Use data box" not in high and "Visit a Czech POINT office" in high
    refused = client.post(HIGH, {"route": "data_box"})
    assert refused.status_code == 400 and not Link.objects.exists()


def test_use_data_box_asks_consent_then_opens_the_prepared_message(client, citizen, settings):
    settings.STATE_SYSTEMS_PUBLIC_URL = "https://isds.example/"
    filed = client.post(SUBSTANTIAL, {"route": "data_box"})
    page = client.get(DATA_BOX).content.decode()
    without_consent = client.post(DATA_BOX, {})
    with_consent = client.post(DATA_BOX, {"consent": "yes"})

    link = Link.objects.get(user=citizen)
    assert filed["Location"] == DATA_BOX
    assert (link.route, link.state) == ("data_box", LinkState.REQUESTED)
    assert link.request_code in page and "MojeID identity verification" in page
    assert without_consent.status_code == 400
    assert "Give your consent" in without_consent.content.decode()
    location = with_consent["Location"]
    assert location.startswith("https://isds.example/isds/concept/?to=mojeid1&")
    assert "publish=1" in location and link.request_code in location
    assert "Use data box" in client.get(SETTINGS).content.decode()


def test_the_data_box_page_is_only_for_a_data_box_request(client, citizen):
    client.post(SUBSTANTIAL, {"route": "czech_point"})

    assert client.get(DATA_BOX)["Location"] == "/settings/#public-administration"
