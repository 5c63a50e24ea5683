"""An address too long to come back to (over Django's 16 KB redirect limit once it is carried in
`?next=`) is simply not a place to go on to: every sign-in and re-authentication redirect falls
back to its default page instead of failing with DisallowedRedirect (a 400, and a traceback page
in development).
"""

from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

LONG = "/settings/" + "a" * 17_000
LONG_QUERY = "x=" + "b" * 17_000


@pytest.fixture(params=[False, True], ids=["production", "development"])
def debug(request, settings):
    """Both: production must show no traceback, and `make run` (DEBUG on) shows one for a 400."""
    settings.DEBUG = request.param
    return request.param


def browser(**defaults) -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False, **defaults)


def assert_goes_on_sensibly(response, *, to: str) -> None:
    """A redirect to `to` whose `next` (if any) is a short address of this site."""
    assert response.status_code == 302, (response.status_code, response.content[:300])
    location = urlsplit(response["Location"])
    assert location.path == to, response["Location"][:200]
    for target in parse_qs(location.query).get("next", []):
        assert target.startswith("/") and len(target) < 2048, target[:100]
    assert b"Traceback" not in response.content


def test_the_portal_login_drops_an_overlong_next(debug, user):
    client = browser()
    page = client.get("/login/", {"next": LONG})
    assert page.status_code == 200 and LONG not in page.content.decode()

    response = client.post("/login/", {"login": user.username, "password": PASSWORD, "next": LONG})

    assert_goes_on_sensibly(response, to="/settings/")


def test_the_helpdesk_login_drops_an_overlong_next(debug):
    response = browser().get("/admin/login/", {"next": LONG})

    assert_goes_on_sensibly(response, to="/login/")


def test_a_helpdesk_page_at_an_overlong_address_sends_to_the_sign_in_without_it(debug):
    response = browser().get(f"/admin/accounts/user/?{LONG_QUERY}")

    assert_goes_on_sensibly(response, to="/admin/login/")
    assert_goes_on_sensibly(browser().get(response["Location"]), to="/login/")


def test_after_re_authentication_an_overlong_address_falls_back_to_the_settings(
    debug, signed_in, user
):
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=6), tick=False):
        signed_in.raise_request_exception = False
        asked = signed_in.get(f"/settings/keys/add/?{LONG_QUERY}")
        assert_goes_on_sensibly(asked, to="/account/reauthenticate/")

        resumed = signed_in.post("/account/reauthenticate/", {"password": PASSWORD})

        assert_goes_on_sensibly(resumed, to="/settings/")


# Pages whose sign-in redirect would carry the current address: the portal's `login_required`
# (`accounts.decorators`) and the simulator's `login_redirect` leave out one too long.
OTHERS = [
    pytest.param("/settings/", "/login/", id="portal-login-required"),
    pytest.param("/sim/isds/", "/sim/isds/login/", id="isds"),
    pytest.param("/sim/czechpoint/", "/sim/czechpoint/login/", id="czechpoint"),
    pytest.param("/sim/admin/", "/sim/admin/login/", id="simulator-admin"),
    pytest.param("/sim/outbox/", "/sim/admin/login/", id="simulator-outbox"),
]


@pytest.mark.parametrize(("page", "sign_in"), OTHERS)
def test_a_sign_in_redirect_of_an_overlong_address_goes_on_without_it(debug, page, sign_in):
    if debug and page == "/sim/outbox/":
        pytest.skip("in development the outbox is open to anybody: no sign-in to redirect to")
    response = browser().get(f"{page}?{LONG_QUERY}")

    assert_goes_on_sensibly(response, to=sign_in)


@pytest.mark.parametrize(
    ("page", "sign_in"), [p.values for p in OTHERS], ids=[p.id for p in OTHERS]
)
def test_in_production_an_overlong_address_is_at_worst_a_plain_4xx(settings, page, sign_in):
    settings.DEBUG = False
    response = browser().get(f"{page}?{LONG_QUERY}")

    assert response.status_code < 500 and b"Traceback" not in response.content
