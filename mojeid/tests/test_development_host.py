"""The 127.0.0.1 trap: in development the portal lives at http://localhost:8000.

Browsers refuse security keys on a bare IP address, so `make run` prints and serves localhost,
and a visit to 127.0.0.1 (or [::1]) is sent there: a GET with its path and query, anything else
gets a page naming the address. The app APIs answer where they are called (the phone simulator
may call from another origin), and production does none of this.
"""

import pytest
from django.test import Client

from mojeid.management.commands.runstack import DEFAULT_ADDRPORT, banner

pytestmark = pytest.mark.django_db


@pytest.fixture
def development(settings):
    settings.DEBUG = True  # as under `make run`; the test runner turns it off


def test_make_run_prints_and_serves_localhost():
    assert DEFAULT_ADDRPORT == "localhost:8000"
    assert "http://localhost:8000/" in banner(DEFAULT_ADDRPORT)
    assert "http://localhost:8000/" in banner("127.0.0.1:8000"), "an address is printed as a name"


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "[::1]:8000", "127.0.0.1"])
def test_a_get_to_a_loopback_address_goes_to_localhost_with_its_path_and_query(
    development, client, host
):
    response = client.get("/login/?next=/settings/%23two-factor&x=%C5%BE", HTTP_HOST=host)

    port = host.rpartition(":")[2] if host.endswith("8000") else ""
    assert response.status_code == 302
    assert response["Location"] == (
        f"http://localhost{':' + port if port else ''}/login/?next=/settings/%23two-factor&x=%C5%BE"
    )


def test_a_head_is_redirected_too(development, client):
    response = client.head("/", HTTP_HOST="127.0.0.1:8000")

    assert (response.status_code, response["Location"]) == (302, "http://localhost:8000/")


def test_a_post_to_a_loopback_address_gets_a_page_naming_localhost(development):
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")

    response = browser.post("/login/", {"login": "jana"}, HTTP_HOST="127.0.0.1:8000")

    assert response.status_code == 421
    page = response.content.decode()
    assert '<a href="http://localhost:8000/">' in page
    assert "security keys work only there" in page


def test_a_path_too_long_to_redirect_gets_the_page_not_an_error(development, client):
    response = client.get("/login/?next=/" + "a" * 17_000, HTTP_HOST="127.0.0.1:8000")

    assert response.status_code == 421
    assert "http://localhost:8000/" in response.content.decode()


def test_localhost_and_other_names_are_served_as_they_are(development, client):
    assert client.get("/login/", HTTP_HOST="localhost:8000").status_code == 200
    assert client.get("/login/").status_code == 200  # the test client's own "testserver"


@pytest.mark.parametrize(
    "path", ["/api/klic/v2/status", "/sim/rob/api/citizens/search", "/healthz"]
)
def test_the_apis_answer_on_the_loopback_address(development, client, path):
    response = client.post(path, "{}", content_type="application/json", HTTP_HOST="127.0.0.1:8000")

    assert response.status_code not in (302, 421)


def test_production_does_not_redirect(settings, client):
    settings.DEBUG = False

    assert client.get("/login/", HTTP_HOST="127.0.0.1:8000").status_code == 200
