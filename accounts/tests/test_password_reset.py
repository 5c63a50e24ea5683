"""The forgotten-password flow: a link by e-mail, single-use, expiring, revealing nothing."""

import re
import time

import pytest
import time_machine
from django.test import Client

from accounts.models import AuditEvent
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "novy-kun-upel-2027"
SENT = "If the account exists and its e-mail is confirmed"


def _link(body: str) -> str:
    return re.search(r"http://testserver(/password/reset/\S+/)", body).group(1)


def ask(client, login):
    return client.post("/password/forgotten/", {"login": login}, follow=True)


def set_password(client, link, password=NEW_PASSWORD):
    landing = client.get(link)
    return client.post(landing["Location"], {"new_password1": password, "new_password2": password})


def test_the_link_sets_a_new_password_and_ends_every_session(client, user, deliver):
    other_device = Client(HTTP_ACCEPT_LANGUAGE="en")
    other_device.post("/login/", {"login": user.username, "password": PASSWORD})

    assert SENT in ask(client, user.profile.email).content.decode()
    emails = deliver()[0]
    assert emails[-1].to == [user.profile.email]
    response = set_password(client, _link(emails[-1].body))

    assert response["Location"] == "/login/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert other_device.get("/settings/")["Location"].startswith("/login/")
    assert "password was changed" in deliver()[0][-1].subject
    kinds = set(AuditEvent.objects.filter(user=user).values_list("kind", flat=True))
    assert {"password_reset_requested", "password_changed"} <= kinds


def test_the_token_leaves_the_address_bar_before_the_form_shows(client, user, deliver):
    ask(client, user.username)
    link = _link(deliver()[0][-1].body)

    landing = client.get(link)

    assert landing.status_code == 302
    assert landing["Location"].endswith("/set/")
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token not in landing["Location"]
    assert client.get(landing["Location"]).status_code == 200


def test_unknown_and_unconfirmed_accounts_get_the_same_answer_and_no_mail(
    client, make_user, deliver
):
    make_user("petr", email="petr@example.cz", confirmed=False)

    unknown = ask(client, "nobody@example.cz").content.decode()
    unconfirmed = ask(client, "petr").content.decode()

    assert SENT in unknown and SENT in unconfirmed
    assert deliver()[0] == []


def test_a_link_works_once(client, user, deliver):
    ask(client, user.username)
    link = _link(deliver()[0][-1].body)
    set_password(client, link)

    again = set_password(Client(HTTP_ACCEPT_LANGUAGE="en"), link, "yet-another-kun-2028")

    assert again.status_code == 400
    assert "Link no longer valid" in again.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_a_link_expires_after_an_hour(client, user, deliver):
    ask(client, user.username)
    link = _link(deliver()[0][-1].body)

    # By epoch seconds: an aware datetime would also switch time-machine's local zone to UTC,
    # and Django's reset tokens count in local time.
    with time_machine.travel(time.time() + 3660):
        response = set_password(client, link)

    assert response.status_code == 400
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_tampered_link_is_refused_without_an_error_page(client, user):
    for link in ("/password/reset/MQ/garbage-token/", "/password/reset/%%%/x-y/"):
        response = set_password(client, link)
        assert response.status_code == 400


def test_a_weak_new_password_is_a_form_error(client, user, deliver):
    ask(client, user.username)
    response = set_password(client, _link(deliver()[0][-1].body), "password1")

    assert response.status_code == 200
    assert "too common" in response.content.decode()


def test_requests_are_rate_limited(client, user, deliver):
    for _ in range(4):
        ask(client, user.username)
    assert len(deliver()[0]) == 3, "one person gets at most three links an hour"

    for _ in range(6):
        ask(client, user.username)
    page = ask(client, user.username).content.decode()
    assert "Too many attempts" in page


def test_a_sign_in_voids_a_reset_link_sent_before_it(client, user, deliver):
    """Whoever finds an old reset e-mail later must not get in: the owner has signed in since."""
    ask(client, user.username)
    link = _link(deliver()[0][-1].body)

    owner = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert owner.post("/login/", {"login": user.username, "password": PASSWORD}).status_code == 302

    landing = client.get(link)
    response = client.get(landing["Location"])
    assert response.status_code == 400, "the link is no longer valid"
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
