"""The simulator's home page (/sim/ embedded, / standalone) and its own 404 page.

A new user who opens /sim/ finds every simulated system, what it is for and where it is, and the
demo logins when (and only when) the demo world is loaded: never the demo passwords under
production settings unless the demo was asked for (GOVSIM_DEMO). Any other unknown address under
the simulator is the simulator's own 404 page, not Django's debug page listing every URL.
"""

import re

import pytest
from django.test import Client
from django.urls import reverse

from govsim.isds import seed as isds_seed
from govsim.outage import set_down
from govsim.rob import seed as rob_seed
from govsim.seed import DEMO_PASSWORD, seed_demo_staff

pytestmark = pytest.mark.django_db

HOME = "/sim/"


@pytest.fixture
def browser() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def demo_world(settings):
    """The demo world as `seed_govsim` loads it (with a fast hasher: the hash is not tested)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    rob_seed.seed_demo()
    isds_seed.seed_demo()
    seed_demo_staff()


def links(html: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', html))


def section(html: str, system: str) -> str:
    """The home page's part about one system (`data-system="…"`)."""
    match = re.search(rf'<section[^>]*data-system="{system}"[^>]*>(.*?)</section>', html, re.S)
    assert match, f"no section for {system}"
    return match.group(1)


def test_the_home_page_lists_every_system_with_what_it_is_for_and_a_link(browser):
    response = browser.get(HOME)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "<h1>State systems simulator</h1>" in html
    found = links(html)
    for name in (
        "govsim:czechpoint:desk",
        "govsim:isds:index",
        "govsim:nia:home",
        "govsim:klic",
        "govsim:outbox",
        "govsim_admin:index",
    ):
        assert reverse(name) in found, name
    assert "/sim/rob/api/v1/" in section(html, "rob")
    assert "Data provision from the Register of inhabitants to another person" in section(
        html, "czechpoint"
    )
    assert "/sim/nia/saml/metadata/" in section(html, "nia")
    for system in ("rob", "czechpoint", "isds", "nia", "klic", "outbox", "admin"):
        assert "<h2" in section(html, system), f"{system} has a heading"
        assert "<p" in section(html, system), f"{system} says what it is for"


def test_without_the_demo_world_no_demo_login_is_shown(browser):
    html = browser.get(HOME).content.decode()

    assert DEMO_PASSWORD not in html
    assert "urednik" not in html and "spravce" not in html
    assert 'data-testid="demo-logins"' not in html


def test_with_the_demo_world_its_logins_are_listed_where_they_are_used(browser, demo_world):
    html = browser.get(HOME).content.decode()

    assert DEMO_PASSWORD in html
    assert "urednik" in section(html, "czechpoint")
    assert "spravce" in section(html, "admin")
    boxes = section(html, "isds")
    for username in ("jana", "petr", "karel", "zdenka", "jiri", "hana", "tomas"):
        assert f"<code>{username}</code>" in boxes, username
    # The boxes each person acts for, as the data box system has them (the register's IDs).
    assert "fo12345" in boxes and "peknov1" in boxes and "mojeid1" in boxes
    assert rob_seed.DEMO_CARD_PIN in section(html, "nia")


def test_a_demo_person_switched_off_is_not_offered(browser, demo_world):
    from govsim.isds.models import Person
    from govsim.models import StaffMember

    StaffMember.objects.filter(username="urednik").update(is_active=False)
    Person.objects.filter(username="tomas").update(is_active=False)

    html = browser.get(HOME).content.decode()

    assert "urednik" not in html
    assert "<code>tomas</code>" not in html
    assert "spravce" in html


def test_under_production_settings_demo_passwords_need_the_demo_asked_for(
    browser, demo_world, settings
):
    settings.PRODUCTION = True
    settings.GOVSIM_DEMO = False

    html = browser.get(HOME).content.decode()

    assert DEMO_PASSWORD not in html and rob_seed.DEMO_CARD_PIN not in html
    assert "urednik" not in html
    assert reverse("govsim:isds:index") in links(html), "the systems are listed all the same"

    settings.GOVSIM_DEMO = True  # the compose stack's simulator: GOVSIM_DEMO=1

    assert DEMO_PASSWORD in browser.get(HOME).content.decode()


def test_a_system_that_is_down_says_so_on_the_home_page(browser):
    set_down("isds", True)

    html = browser.get(HOME).content.decode()

    assert "Simulated outage" in section(html, "isds")
    assert "Simulated outage" not in section(html, "rob")


def test_the_home_page_is_in_czech_by_default():
    response = Client().get(HOME)

    assert response.status_code == 200
    assert '<html lang="cs">' in response.content.decode()


def test_the_home_page_only_answers_reads(browser):
    assert browser.post(HOME).status_code == 405


# --- Unknown addresses ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/sim/nothing-here/", "/sim/isds/box/", "/sim/rob/people/"])
def test_an_unknown_address_is_the_simulators_404_page_even_with_debug(browser, settings, path):
    settings.DEBUG = True

    response = browser.get(path)

    assert response.status_code == 404
    html = response.content.decode()
    assert "Using the URLconf" not in html and "urlpatterns" not in html
    assert 'data-testid="not-found"' in html
    assert HOME in links(html), "leads back to the simulator's home page"


def test_the_apis_keep_their_json_404(browser):
    response = browser.get("/sim/rob/api/v1/nothing")

    assert response.status_code in (401, 404)
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.urls("govsim.standalone_urls")
def test_the_standalone_simulator_has_its_home_page_at_the_root(browser):
    response = browser.get("/")

    assert response.status_code == 200
    found = links(response.content.decode())
    assert {"/isds/", "/nia/", "/klic/", "/czechpoint/", "/admin/"} <= found
    assert not any(link.startswith("/sim/") for link in found)
    assert browser.get("/nia/").status_code == 200


@pytest.mark.parametrize(
    "path, location",
    [
        ("/sim/isds", "/sim/isds/"),
        ("/sim/nia/saml/metadata?x=1", "/sim/nia/saml/metadata/?x=1"),
    ],
)
def test_a_missing_slash_is_still_added_where_a_page_exists(browser, path, location):
    response = browser.get(path)

    assert response.status_code == 301
    assert response["Location"] == location


def test_no_slash_is_added_where_no_page_exists_nor_to_a_post(browser):
    assert browser.get("/sim/nothing").status_code == 404
    assert browser.post("/sim/isds").status_code == 404
