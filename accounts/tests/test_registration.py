"""Registration and the confirmation of e-mail (PIN1) and phone (PIN2)."""

import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, ContactCode, User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

FORM = {
    "username": "Zdenek.Prilis",
    "first_name": "Zdeněk",
    "last_name": "Příliš-Žluťoučký",
    "email": "Zdenek@Example.CZ",
    "phone": "+420 777 123 456",
    "password1": PASSWORD,
    "password2": PASSWORD,
}


def _pin(text: str, digits: int) -> str:
    return re.search(rf"\b(\d{{{digits}}})\b", text).group(1)


def register(client, **changes):
    return client.post("/register/", {**FORM, **changes})


def test_registration_creates_account_signs_in_and_sends_both_codes(client, deliver):
    response = register(client)

    assert response.status_code == 302
    assert response["Location"] == "/account/confirm/"
    user = User.objects.get(username="zdenek.prilis")
    assert user.profile.first_name == "Zdeněk"
    assert user.profile.last_name == "Příliš-Žluťoučký"
    assert user.profile.email == "zdenek@example.cz"
    assert user.profile.phone == "+420777123456"
    assert not user.profile.email_confirmed and not user.profile.phone_confirmed
    assert AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.REGISTERED).exists()

    emails, texts = deliver()
    assert [m.to for m in emails] == [["zdenek@example.cz"]]
    assert len(_pin(emails[0].body, 8)) == 8
    assert [t["to"] for t in texts] == ["+420777123456"]
    assert len(_pin(texts[0]["text"], 6)) == 6

    page = client.get("/account/confirm/")
    assert page.status_code == 200
    assert "zdenek@example.cz" in page.content.decode()


def test_both_pins_confirm_the_contacts(client, deliver):
    register(client)
    emails, texts = deliver()
    pin1, pin2 = _pin(emails[0].body, 8), _pin(texts[0]["text"], 6)

    client.post("/account/confirm/email/", {"code": pin1})
    response = client.post("/account/confirm/phone/", {"code": f" {pin2[:3]} {pin2[3:]} "})

    assert response["Location"] == "/settings/"
    profile = User.objects.get(username="zdenek.prilis").profile
    assert profile.email_confirmed and profile.phone_confirmed
    assert "confirmed" in client.get("/settings/").content.decode()


def test_a_code_works_once(client, deliver):
    register(client)
    pin1 = _pin(deliver()[0][0].body, 8)
    client.post("/account/confirm/email/", {"code": pin1})
    user = User.objects.get(username="zdenek.prilis")
    first_confirmation = user.profile.email_confirmed_at

    response = client.post("/account/confirm/email/", {"code": pin1}, follow=True)

    user.profile.refresh_from_db()
    assert user.profile.email_confirmed_at == first_confirmation
    assert (
        ContactCode.objects.filter(user=user, channel="email", used_at__isnull=False).count() == 1
    )
    assert response.status_code == 200


def test_wrong_pin_is_refused_and_five_wrong_guesses_burn_the_code(client, deliver):
    register(client)
    pin1 = _pin(deliver()[0][0].body, 8)
    wrong = str((int(pin1) + 1) % 10**8).zfill(8)

    for _ in range(5):
        page = client.post("/account/confirm/email/", {"code": wrong}, follow=True)
        assert "not right" in page.content.decode()
    page = client.post("/account/confirm/email/", {"code": pin1}, follow=True)

    assert "Too many wrong attempts" in page.content.decode()
    assert not User.objects.get(username="zdenek.prilis").profile.email_confirmed


def test_codes_expire(client, deliver):
    register(client)
    texts = deliver()[1]
    pin2 = _pin(texts[0]["text"], 6)

    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=16)):
        page = client.post("/account/confirm/phone/", {"code": pin2}, follow=True)

    assert "expired" in page.content.decode()
    assert not User.objects.get(username="zdenek.prilis").profile.phone_confirmed


def test_resending_is_rate_limited_and_a_new_code_replaces_the_old(client, deliver):
    register(client)
    old_pin = _pin(deliver()[1][0]["text"], 6)

    too_soon = client.post("/account/confirm/phone/resend/", follow=True)
    assert "Wait a minute" in too_soon.content.decode()

    start = timezone.now()
    for step in range(1, 5):  # 90 s apart: past the one-minute resend interval each time
        with time_machine.travel(start + timezone.timedelta(seconds=90 * step), tick=False):
            client.post("/account/confirm/phone/resend/")
    with time_machine.travel(start + timezone.timedelta(seconds=90 * 5), tick=False):
        refused = client.post("/account/confirm/phone/resend/", follow=True)
        assert "Too many codes" in refused.content.decode()
        texts = deliver()[1]
        assert len(texts) == 5  # registration + four resends
        stale = client.post("/account/confirm/phone/", {"code": old_pin}, follow=True)
        assert "expired" in stale.content.decode() or "not right" in stale.content.decode()
        fresh = client.post("/account/confirm/phone/", {"code": _pin(texts[-1]["text"], 6)})
    assert fresh.status_code == 302
    assert User.objects.get(username="zdenek.prilis").profile.phone_confirmed


def test_a_taken_username_is_a_form_error(client, make_user):
    make_user("zdenek.prilis", email="other@example.cz")

    response = register(client)

    assert response.status_code == 200
    assert "This username is taken." in response.content.decode()


def test_registration_attempts_are_rate_limited_per_address_even_when_invalid(client, make_user):
    """Else "this username is taken" would answer unlimited guesses about who has an account."""
    make_user("taken")
    for number in range(20):
        response = register(client, username="taken", email=f"probe{number}@example.cz")
        assert "This username is taken." in response.content.decode()

    response = register(client, username="fresh", email="fresh@example.cz")

    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many attempts" in page
    assert "This username is taken." not in page
    assert not User.objects.filter(username="fresh").exists()


def test_passwords_are_stored_with_argon2id_above_owasps_minimum(client):
    register(client)
    stored = User.objects.get(username="zdenek.prilis").password

    algorithm, variant, _version, parameters, _salt, _hash = stored.split("$")
    costs = dict(item.split("=") for item in parameters.split(","))
    assert (algorithm, variant) == ("argon2", "argon2id")
    # OWASP Password Storage Cheat Sheet: at least 19 MiB of memory and 2 iterations.
    assert int(costs["m"]) >= 19 * 1024
    assert int(costs["t"]) >= 2
    assert PASSWORD not in stored


# --- an address typed is not an address owned ------------------------------------------------


def test_an_unconfirmed_registration_does_not_keep_the_owner_of_the_address_out(
    client, make_user, deliver
):
    make_user("squatter", email="zdenek@example.cz", confirmed=False)

    response = register(client)

    assert response.status_code == 302, "the address was only typed by somebody else"
    emails, _texts = deliver()
    client.post("/account/confirm/email/", {"code": _pin(emails[-1].body, 8)})
    owner = User.objects.get(username="zdenek.prilis")
    assert owner.profile.email_confirmed
    assert not User.objects.get(username="squatter").profile.email_confirmed


def test_a_confirmed_address_cannot_be_confirmed_by_a_second_account(client, make_user, deliver):
    """The first to confirm owns the address; the other account's code no longer works."""
    register(client)
    squatter = Client(HTTP_ACCEPT_LANGUAGE="en")
    register(squatter, username="second.try")
    emails, _ = deliver()
    first_pin, second_pin = _pin(emails[0].body, 8), _pin(emails[1].body, 8)
    client.post("/account/confirm/email/", {"code": first_pin})

    page = squatter.post("/account/confirm/email/", {"code": second_pin}, follow=True)

    assert "already belongs to another account" in page.content.decode()
    assert not User.objects.get(username="second.try").profile.email_confirmed


# --- registration does not tell whether an address has an account -------------------------------


def _confirm_page(client, *hidden: str) -> str:
    """The confirmation page as the registrant sees it, without what they typed themselves and
    the times (which differ by the seconds between the two registrations)."""
    page = client.get("/account/confirm/").content.decode()
    for text in hidden:
        page = page.replace(text, "…")
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
    return re.sub(r"\d+\. \d+\. \d{4} \d+:\d+", "…", page)


def test_registration_answers_the_same_whether_or_not_the_address_has_an_account(
    make_user, deliver
):
    owner = make_user("owner", email="taken@example.cz")
    fresh, probe = Client(HTTP_ACCEPT_LANGUAGE="en"), Client(HTTP_ACCEPT_LANGUAGE="en")

    first = register(fresh, username="first", email="fresh@example.cz")
    second = register(probe, username="second", email="Taken@Example.cz")

    assert (first.status_code, first["Location"]) == (second.status_code, second["Location"])
    assert second["Location"] == "/account/confirm/"
    assert _confirm_page(fresh, "fresh@example.cz", "First") == _confirm_page(
        probe, "taken@example.cz", "Second"
    )
    wrong = probe.post("/account/confirm/email/", {"code": "12345678"}, follow=True)
    assert "That code is not right" in wrong.content.decode(), "refused like any wrong PIN"
    emails, texts = deliver()
    assert [m.to for m in emails] == [["fresh@example.cz"], ["taken@example.cz"]]
    assert len(texts) == 2, "both phones get their PIN2"
    notice = emails[1]
    assert notice.subject == "Somebody tried to register at MojeID with your e-mail address"
    assert "your account owner" in notice.body
    assert "http://testserver/password/forgotten/" in notice.body
    assert not re.search(r"\b\d{8}\b", notice.body), "the owner gets no code for the stranger"
    assert not User.objects.get(username="second").profile.email_confirmed
    assert AuditEvent.objects.filter(
        user=owner, kind=AuditEvent.Kind.REGISTRATION_EMAIL_TAKEN, actor=None
    ).exists()


def test_the_owner_is_told_a_few_times_an_hour_and_every_attempt_is_audited(make_user, deliver):
    owner = make_user("owner", email="taken@example.cz")

    for number in range(5):
        register(Client(), username=f"probe{number}", email="taken@example.cz")

    notices = [m for m in deliver()[0] if m.to == ["taken@example.cz"]]
    assert len(notices) == 3
    events = AuditEvent.objects.filter(user=owner, kind=AuditEvent.Kind.REGISTRATION_EMAIL_TAKEN)
    assert events.count() == 5


def test_signing_in_by_an_address_names_its_confirmed_owner(client, make_user):
    make_user("squatter", email="shared@example.cz", confirmed=False)
    make_user("owner", email="shared@example.cz")

    client.post("/login/", {"login": "shared@example.cz", "password": PASSWORD})

    assert client.session["_auth_user_id"] == str(User.objects.get(username="owner").pk)


def test_an_address_two_unconfirmed_accounts_typed_names_neither(client, make_user):
    make_user("first", email="shared@example.cz", confirmed=False)
    make_user("second", email="shared@example.cz", confirmed=False)

    response = client.post("/login/", {"login": "shared@example.cz", "password": PASSWORD})

    assert response.status_code == 200 and "_auth_user_id" not in client.session
