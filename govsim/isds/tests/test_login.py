"""Signing in to the data box system: its own persons and passwords, its own session key, one
message for every failure, and no effect on the portal's own sign-in."""

import pytest

from govsim.isds.models import Person
from govsim.isds.services import MAX_FAILURES, SESSION_KEY

from .conftest import LOGIN_URL, sign_in

pytestmark = pytest.mark.django_db

INDEX_URL = "/sim/isds/"


def error_of(response) -> str:
    html = response.content.decode()
    start = html.index('data-testid="login-error">') + len('data-testid="login-error">')
    return html[start : html.index("</p>", start)]


def test_a_person_signs_in_and_sees_the_boxes_they_may_act_for(client, world):
    response = sign_in(client, "jana")

    assert response.status_code == 302
    assert response["Location"] == INDEX_URL
    page = client.get(INDEX_URL)
    assert page.status_code == 200
    boxes = page.content.decode()
    assert 'data-box="jnovak1"' in boxes
    assert 'data-box="peknov1"' in boxes  # authorised person of the company
    assert 'data-box="pdvora1"' not in boxes
    assert "Jana Nováková" in boxes


def test_the_data_box_session_is_not_a_django_sign_in(client, world):
    sign_in(client, "jana")

    assert client.session[SESSION_KEY]["id"] == world.jana.pk
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_is_refused(client, world):
    response = sign_in(client, "jana", "not-the-password")

    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert client.get(INDEX_URL)["Location"].startswith(LOGIN_URL)


def test_unknown_user_wrong_password_and_blocked_person_get_the_same_message(client, world):
    Person.objects.filter(username="petr").update(is_active=False)

    wrong_password = error_of(sign_in(client, "jana", "not-the-password"))
    unknown_user = error_of(sign_in(client, "nobody", "not-the-password"))
    blocked = error_of(sign_in(client, "petr"))  # right password, person not allowed

    assert wrong_password == unknown_user == blocked
    assert "Wrong username or password" in wrong_password
    assert SESSION_KEY not in client.session


def test_after_too_many_failures_even_the_right_password_is_refused_the_same_way(client, world):
    for _ in range(MAX_FAILURES):
        sign_in(client, "jana", "guess")

    response = sign_in(client, "jana")

    assert response.status_code == 200
    assert "Wrong username or password" in error_of(response)
    assert SESSION_KEY not in client.session


def test_a_login_returns_to_the_page_it_was_asked_from(client, world):
    response = sign_in(client, "jana", next_url="/sim/isds/concept/?to=mojeid1&subject=x")

    assert response["Location"] == "/sim/isds/concept/?to=mojeid1&subject=x"


def test_a_login_does_not_send_the_person_to_another_site(client, world):
    response = sign_in(client, "jana", next_url="https://evil.example/")

    assert response["Location"] == INDEX_URL


def test_signing_out_keeps_the_rest_of_the_session(client, world):
    sign_in(client, "jana")
    session = client.session
    session["portal_state"] = "kept"  # in the embedded stack the portal shares the session
    session.save()

    response = client.post("/sim/isds/logout/")

    assert response.status_code == 302
    assert SESSION_KEY not in client.session
    assert client.session["portal_state"] == "kept"


def test_a_new_password_ends_the_sessions_signed_in_before(client, world):
    sign_in(client, "jana")
    world.jana.set_password("another-password-2026")
    world.jana.save()

    response = client.get(INDEX_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_a_malformed_login_is_refused_without_error(client, world):
    response = client.post(LOGIN_URL, {"username": "ja\x00na", "password": "x"})

    assert response.status_code == 200
    assert SESSION_KEY not in client.session


LONG = "b" * 17_000


@pytest.mark.parametrize("debug", [False, True], ids=["production", "development"])
@pytest.mark.parametrize(
    "page",
    [f"/sim/isds/?x={LONG}", f"/sim/isds/box/jnovak1/?x={LONG}", f"/sim/isds/box/{LONG}/new/"],
    ids=["index", "box", "new-message"],
)
def test_an_overlong_address_signs_in_without_coming_back_to_it(
    client, world, settings, debug, page
):
    """Too long to come back to (the sign-in refuses such a `next`): the sign-in page all the
    same, never a DisallowedRedirect (a 400 page, a traceback in development)."""
    settings.DEBUG = debug
    client.raise_request_exception = False

    response = client.get(page)

    assert response.status_code == 302
    assert response["Location"] == LOGIN_URL
