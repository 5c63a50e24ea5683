"""A request whose session another request ended meanwhile (a sign-in that renewed the session
key, a sign-out) gets a clear answer: never a 500, never an HTML error page for a JSON poll."""

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from tests.races import race
from twofactor.tests.test_klic import klic_step, paired_app

pytestmark = pytest.mark.django_db(transaction=True)

COOKIE = settings.SESSION_COOKIE_NAME


def parallel(client: Client, method: str, path: str, count: int) -> list:
    """`count` identical requests at once in the session of `client` (each in its own thread,
    released together by `tests.races.race`), through Django's test client."""
    cookie = client.cookies[COOKIE].value

    def call():
        browser = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
        browser.cookies[COOKIE] = cookie
        try:
            return getattr(browser, method)(path)
        finally:
            connection.close()  # each thread has its own connection: the test database must go

    return race([call] * count)


def test_parallel_polls_of_an_approved_klic_sign_in_answer_json_and_sign_in_once(
    settings, client, user, signed_in
):
    settings.DEBUG = False
    app = paired_app(signed_in)
    client.post("/logout/")
    for _attempt in range(3):  # the interleaving differs from run to run
        shown = klic_step(client, user)
        (request,) = app.requests()
        assert app.approve(request, number=shown).status_code == 200

        answers = parallel(client, "get", "/login/klic/status/", 8)

        assert all(answer["Content-Type"] == "application/json" for answer in answers)
        approved = [answer for answer in answers if answer.json()["status"] == "approved"]
        assert len(approved) == 1, [(a.status_code, a.json()) for a in answers]
        for answer in answers:
            if answer is not approved[0]:
                assert answer.status_code in (200, 403, 409), answer.status_code
                assert answer.json()["status"] == "gone" and answer.json()["message"]
                assert COOKIE not in answer.cookies, "the winner's new session stays the browser's"
        client.cookies[COOKIE] = approved[0].cookies[COOKIE].value
        assert client.get("/settings/").status_code == 200, "signed in by the one approval"
        client.post("/logout/")


@pytest.mark.django_db
def test_the_cookie_of_a_session_that_is_gone_stays_and_a_sign_out_deletes_it(client, signed_in):
    """A request still holding the key that a concurrent sign-in replaced must not delete the
    browser's cookie (if its answer arrives last, the browser would be signed out again)."""
    stale = Client(HTTP_ACCEPT_LANGUAGE="en")
    stale.cookies[COOKIE] = "k" * 32  # a key of no session, as after the race

    page = stale.get("/login/")

    assert page.status_code == 200 and COOKIE not in page.cookies
    signed_out = signed_in.post("/logout/")
    assert signed_out.cookies[COOKIE].value == "", "signing out deletes the cookie"
