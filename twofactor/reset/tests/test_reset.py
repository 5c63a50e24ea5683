"""The two-factor reset through the real pages: control code, PIN1, PIN2 and the password.

A user with two security keys and a MojeID Klíč (with a sign-in waiting for it) passes the
password step, asks for the codes, and types them back. Every wrong answer gets one and the same
message and removes nothing; five of them spend the reset; it expires, is used once, is
rate-limited, and bad input never makes a 500 (the test client re-raises any exception).
"""

import re
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent
from conftest import PASSWORD
from nia_link import services as nia_link
from nia_link.exceptions import NiaUnavailable
from twofactor.models import (
    KlicActivation,
    KlicDevice,
    KlicLoginRequest,
    SecurityKey,
    TwoFactorReset,
)
from twofactor.reset import services

pytestmark = pytest.mark.django_db

START = "/login/reset/"
CONFIRM = "/login/reset/confirm/"
REFUSED = "The codes or the password are not right."
NOT_VALID = "These codes are no longer valid"
HELPDESK = "The reset has to go through MojeID support"
DONE = "Every second factor was removed from your account."


def add_factors(user) -> None:
    """Two security keys and a confirmed Klíč with a sign-in request waiting for it."""
    for number in (1, 2):
        SecurityKey.objects.create(
            user=user,
            name=f"Key {number}",
            credential_id=f"credential-{user.pk}-{number}",
            public_key=b"x",
            aaguid=uuid.UUID(int=number),
            attestation_format="none",
            attestation_object=b"",
            key_type="unknown",
        )
    device = KlicDevice.objects.create(
        user=user, confirmed=True, public_key=b"x", pin_verifier="hash"
    )
    KlicLoginRequest.objects.create(
        device=device,
        challenge="c" * 43,
        browser_secret_hash="0" * 64,
        service="MojeID",
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    KlicActivation.objects.create(
        user=user, code_hash=uuid.uuid4().hex, expires_at=timezone.now() + timedelta(minutes=10)
    )


def factors_of(user) -> tuple[int, int, int]:
    return (
        SecurityKey.objects.filter(user=user).count(),
        KlicDevice.objects.filter(user=user).count(),
        KlicLoginRequest.objects.filter(device__user=user).count(),
    )


@pytest.fixture
def with_factors(user):
    add_factors(user)
    return user


@pytest.fixture
def cancelled(monkeypatch):
    """Stands in for the NIA hook; lists the calls it got."""
    calls = []

    def cancel_link(user, *, reason, actor=None):
        calls.append((user.pk, reason, actor))
        return False

    monkeypatch.setattr(nia_link, "cancel_link", cancel_link)
    return calls


def password_step(client, user) -> None:
    response = client.post("/login/", {"login": user.username, "password": PASSWORD})
    assert response["Location"] == "/login/key/", "the user has a key: a pending login"


def start(client, user) -> str:
    """Pass the password step and ask for the codes; returns the control code on the page."""
    password_step(client, user)
    assert "Send the codes" in client.get(START).content.decode()
    response = client.post(START)
    assert response.status_code == 302 and response["Location"] == CONFIRM
    page = client.get(CONFIRM)
    assert page.status_code == 200
    return page.context["control_code"]


def answers(client, user, deliver, **wrong) -> dict:
    """Start a reset and gather the right answers from the page, the e-mail and the SMS."""
    control_code = start(client, user)
    emails, sms = deliver()
    right = {
        "control_code": control_code,
        "email_code": re.search(r"^\s+(\d{8})\s*$", emails[-1].body, re.M).group(1),
        "phone_code": re.search(r"\b(\d{6})\b", sms[-1]["text"]).group(1),
        "password": PASSWORD,
    }
    return {**right, **wrong}


def test_the_codes_arrive_by_e_mail_and_sms_and_the_control_code_is_easy_to_type(
    client, with_factors, deliver
):
    control_code = start(client, with_factors)

    emails, sms = deliver()
    assert emails[-1].to == [with_factors.profile.email]
    assert "resetting two-factor authentication" in emails[-1].subject
    assert re.search(r"^\s+\d{8}\s*$", emails[-1].body, re.M)
    assert sms[-1]["to"] == with_factors.profile.phone
    assert re.search(
        r"\(PIN2\) for resetting two-factor authentication is \d{6}\.", sms[-1]["text"]
    )
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", control_code)
    reset = TwoFactorReset.objects.get(user=with_factors)
    assert reset.expires_at - reset.created_at == timedelta(minutes=30)
    # Only hashes are stored.
    assert emails[-1].body.split()[-1] not in (reset.email_code_hash, reset.phone_code_hash)
    assert AuditEvent.objects.filter(user=with_factors, kind="two_factor_reset_started").exists()


def test_the_full_reset_removes_every_second_factor_and_signs_in(
    client, with_factors, deliver, cancelled
):
    right = answers(client, with_factors, deliver)
    # Retyping the control code in lower case with a space is fine.
    right["control_code"] = f"{right['control_code'][:3]} {right['control_code'][3:]}".lower()

    response = client.post(CONFIRM, right)

    assert response.status_code == 302
    assert response["Location"] == "/settings/#two-factor"
    assert factors_of(with_factors) == (0, 0, 0)
    assert not KlicActivation.objects.filter(user=with_factors, expires_at__gt=timezone.now())
    assert cancelled == [(with_factors.pk, "two_factor_reset", None)]
    reset = TwoFactorReset.objects.get(user=with_factors)
    assert reset.completed_at is not None
    event = AuditEvent.objects.get(user=with_factors, kind="two_factor_reset")
    assert event.details["keys"] == ["Key 1", "Key 2"] and event.details["klic_devices"] == 1
    done = deliver()[0][-1]
    assert done.to == [with_factors.profile.email]
    assert "was reset" in done.subject and "NIA" not in done.body
    settings_page = client.get("/settings/")
    assert settings_page.status_code == 200
    assert settings_page.wsgi_request.user.pk == with_factors.pk
    assert not settings_page.wsgi_request.user.is_verified(), "no second factor is left"
    assert DONE in settings_page.content.decode()


def test_a_cancelled_nia_link_is_mentioned_in_the_e_mail(
    client, with_factors, deliver, monkeypatch
):
    monkeypatch.setattr(nia_link, "cancel_link", lambda user, *, reason, actor=None: True)

    client.post(CONFIRM, answers(client, with_factors, deliver))

    assert factors_of(with_factors) == (0, 0, 0)
    assert "(NIA) was cancelled" in deliver()[0][-1].body
    event = AuditEvent.objects.get(user=with_factors, kind="two_factor_reset")
    assert event.details["nia_link_cancelled"] is True


def test_the_real_nia_hook_is_called(client, with_factors, deliver, monkeypatch):
    calls = []
    real = nia_link.cancel_link

    def spy(user, **kwargs):
        calls.append(kwargs)
        return real(user, **kwargs)

    monkeypatch.setattr(nia_link, "cancel_link", spy)

    client.post(CONFIRM, answers(client, with_factors, deliver))

    assert calls == [{"reason": "two_factor_reset", "actor": None}]


def mangled(value: str) -> str:
    """The answer with its last character changed: a typo, never the right answer by chance."""
    last = value[-1]
    if last.isdigit():
        return value[:-1] + str((int(last) + 1) % 10)
    return value[:-1] + ("B" if last.upper() == "A" else "A")


@pytest.mark.parametrize("wrong", ["control_code", "email_code", "phone_code", "password"])
def test_each_wrong_answer_gets_the_same_message_and_removes_nothing(
    client, with_factors, deliver, cancelled, wrong
):
    right = answers(client, with_factors, deliver)
    given = {**right, wrong: mangled(right[wrong])}

    response = client.post(CONFIRM, given)

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count(REFUSED) == 1
    # Nothing on the page names the part that was wrong: no field has an error of its own.
    assert not response.context["form"].errors
    assert factors_of(with_factors) == (2, 1, 1)
    assert cancelled == []
    reset = TwoFactorReset.objects.get(user=with_factors)
    assert (reset.failed_attempts, reset.completed_at) == (1, None)
    failed = AuditEvent.objects.get(user=with_factors, kind="two_factor_reset_failed")
    assert failed.details["wrong"] == [wrong]
    assert not client.get("/settings/").wsgi_request.user.is_authenticated
    assert len(deliver()[0]) == 1, "only the code, no 'reset done' e-mail"


def test_the_wrong_answers_pages_are_identical(with_factors, deliver):
    """Apart from the CSRF token, a wrong PIN1 and a wrong password give the very same page."""

    def refusal(wrong):
        browser = Client(HTTP_ACCEPT_LANGUAGE="en")
        right = answers(browser, with_factors, deliver)
        page = browser.post(CONFIRM, {**right, wrong: mangled(right[wrong])})
        html = page.content.decode()
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
        html = re.sub(r'id="control-code" translate="no">\w+<', "", html)
        html = re.sub(r' value="[^"]*"', "", html)  # what was typed is kept, whatever was wrong
        return re.sub(r"Valid until [^<]+", "", html)

    assert refusal("email_code") == refusal("password") == refusal("control_code")


def _value(page: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
    value = re.search(r' value="([^"]*)"', tag)
    return value.group(1) if value else None


def test_a_wrong_answer_keeps_what_was_typed_but_the_password_and_counts_the_tries(
    client, with_factors, deliver
):
    right = answers(client, with_factors, deliver)
    typed = {**right, "phone_code": mangled(right["phone_code"])}

    page = client.post(CONFIRM, typed).content.decode()

    for name in ("control_code", "email_code", "phone_code"):
        assert _value(page, name) == typed[name], f"{name} is kept"
    assert _value(page, "password") is None, "the password is never sent back"
    assert "You can try 4 more times; then ask for new codes." in page
    for left in (3, 2):
        page = client.post(CONFIRM, typed).content.decode()
        assert f"You can try {left} more times" in page
    page = client.post(CONFIRM, typed).content.decode()
    assert "You can try 1 more time;" in page


def test_five_wrong_answers_spend_the_reset(client, with_factors, deliver):
    right = answers(client, with_factors, deliver)
    for attempt in range(1, 6):
        response = client.post(CONFIRM, {**right, "phone_code": "000000"})
        assert REFUSED in response.content.decode()
        assert (NOT_VALID in response.content.decode()) is (attempt == 5)

    final = client.post(CONFIRM, right)

    assert REFUSED in final.content.decode() and NOT_VALID in final.content.decode()
    assert final.context["form"] is None, "no form to try again: ask for new codes"
    assert factors_of(with_factors) == (2, 1, 1)
    assert TwoFactorReset.objects.get(user=with_factors).completed_at is None


def test_expired_codes_are_refused(client, with_factors, deliver):
    right = answers(client, with_factors, deliver)

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        response = client.post(CONFIRM, right)

    page = response.content.decode()
    assert REFUSED in page and NOT_VALID in page
    assert factors_of(with_factors) == (2, 1, 1)


def test_the_codes_may_be_typed_after_the_pending_login_is_over(client, with_factors, deliver):
    """The pending login lasts 5 minutes; an SMS may take longer. The reset lasts 30."""
    right = answers(client, with_factors, deliver)

    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        assert client.get("/login/key/")["Location"] == "/login/", "the pending login is over"
        response = client.post(CONFIRM, right)

    assert response["Location"] == "/settings/#two-factor"
    assert factors_of(with_factors) == (0, 0, 0)


def test_a_reset_works_once(client, with_factors, deliver):
    right = answers(client, with_factors, deliver)
    assert client.post(CONFIRM, right).status_code == 302
    reset = TwoFactorReset.objects.get(user=with_factors)
    add_factors(with_factors)

    with pytest.raises(services.ResetNotRunning):
        services.do_complete_reset(reset, **right)
    # Through the pages too: (the session, signed in with the password alone while the account
    # has factors again, is ended by SecondFactorMiddleware; either way nothing is removed).
    again = client.post(CONFIRM, right)
    assert again.status_code == 302 and again["Location"] != "/settings/#two-factor"
    assert factors_of(with_factors) == (2, 1, 1)


def test_a_new_reset_replaces_the_running_one(client, with_factors, deliver):
    first = answers(client, with_factors, deliver)
    second = answers(client, with_factors, deliver)

    old, new = TwoFactorReset.objects.filter(user=with_factors).order_by("created_at")
    assert not services.is_running(old) and services.is_running(new)
    response = client.post(CONFIRM, {**first, "control_code": second["control_code"]})
    assert REFUSED in response.content.decode()
    assert factors_of(with_factors) == (2, 1, 1)


def test_without_a_pending_login_the_reset_sends_to_the_login_page(client, with_factors, deliver):
    assert client.get(START)["Location"] == "/login/"
    assert client.post(START)["Location"] == "/login/"
    assert client.get(CONFIRM)["Location"] == START
    assert client.post(CONFIRM, {"control_code": "AAAAAA"})["Location"] == START
    assert not TwoFactorReset.objects.exists()
    assert deliver() == ([], [])


def test_another_account_signing_in_meanwhile_cannot_see_the_reset(client, with_factors, make_user):
    start(client, with_factors)
    petr = make_user("petr", email="petr@example.cz")  # no second factor

    client.post("/login/", {"login": petr.username, "password": PASSWORD})

    assert client.get("/settings/").wsgi_request.user.pk == petr.pk
    assert client.get(CONFIRM)["Location"] == START
    assert client.get(START)["Location"] == "/login/"


def test_an_unconfirmed_phone_means_the_helpdesk_and_nothing_is_sent(client, make_user, deliver):
    user = make_user(confirmed=False)
    user.profile.email_confirmed_at = timezone.now()
    user.profile.save(update_fields=["email_confirmed_at"])
    add_factors(user)
    password_step(client, user)

    shown = client.get(START).content.decode()
    posted = client.post(START)

    assert HELPDESK in shown and "Send the codes" not in shown
    assert posted.status_code == 200 and HELPDESK in posted.content.decode()
    assert not TwoFactorReset.objects.exists()
    assert deliver() == ([], [])


def test_sending_codes_is_rate_limited_per_account(client, with_factors, deliver):
    for _ in range(services.STARTS_PER_ACCOUNT_PER_HOUR):
        start(client, with_factors)

    response = client.post(START)

    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert TwoFactorReset.objects.count() == services.STARTS_PER_ACCOUNT_PER_HOUR
    assert len(deliver()[1]) == services.STARTS_PER_ACCOUNT_PER_HOUR


def test_sending_codes_is_rate_limited_per_address(client, make_user, deliver, monkeypatch):
    from twofactor.reset import flows

    monkeypatch.setattr(flows, "STARTS_PER_ADDRESS_PER_HOUR", 1)
    jana, petr = make_user("jana"), make_user("petr", email="petr@example.cz")
    add_factors(jana)
    add_factors(petr)
    start(client, jana)

    other_browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    password_step(other_browser, petr)
    response = other_browser.post(START)

    assert response.status_code == 429
    assert not TwoFactorReset.objects.filter(user=petr).exists()


def test_answers_are_rate_limited(client, with_factors, deliver, monkeypatch):
    monkeypatch.setattr(services, "ATTEMPTS_PER_ACCOUNT_PER_HOUR", 2)
    right = answers(client, with_factors, deliver)
    for _ in range(2):
        client.post(CONFIRM, {**right, "email_code": "00000000"})

    response = client.post(CONFIRM, right)

    assert response.status_code == 429
    assert factors_of(with_factors) == (2, 1, 1)


def test_nia_unreachable_changes_nothing(client, with_factors, deliver, monkeypatch):
    def unreachable(user, message, **authenticator):
        raise NiaUnavailable(message)

    # The reset asks NIA first, outside its transaction (`ensure_nia_answers`).
    monkeypatch.setattr(nia_link, "ensure_nia_answers", unreachable)
    right = answers(client, with_factors, deliver)

    response = client.post(CONFIRM, right)

    assert response.status_code == 503
    # The help page's words for the link, on the reset page too.
    assert (
        "It is not possible to complete the access to public administration services."
        in response.content.decode()
    )
    assert factors_of(with_factors) == (2, 1, 1)
    reset = TwoFactorReset.objects.get(user=with_factors)
    assert reset.completed_at is None and reset.failed_attempts == 0
    assert not AuditEvent.objects.filter(kind="two_factor_reset").exists()
    assert not client.get("/settings/").wsgi_request.user.is_authenticated


LONG = "x" * 10_000
GARBAGE = {
    "empty": "",
    "10k-chars": LONG,
    "nul": "12\x003456",
    "rtl-override": "\u202e123456",
    "emoji": "😀😀😀",
    "arabic-digits": "١٢٣٤٥٦",
    "sql": "' OR 1=1 --",
}


@pytest.mark.parametrize("field", ["control_code", "email_code", "phone_code", "password"])
@pytest.mark.parametrize("value", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_is_an_error_never_a_500(client, with_factors, deliver, field, value):
    given = answers(client, with_factors, deliver, **{field: value})

    response = client.post(CONFIRM, given)

    assert response.status_code == 200
    page = response.content.decode()
    assert REFUSED in page or response.context["form"].errors
    assert factors_of(with_factors) == (2, 1, 1)


def test_a_missing_or_repeated_field_is_an_error_never_a_500(client, with_factors, deliver):
    right = answers(client, with_factors, deliver)

    missing = client.post(CONFIRM, {"control_code": right["control_code"]})
    repeated = client.post(CONFIRM, {**right, "email_code": ["1", "2"]})

    assert missing.status_code == 200 and missing.context["form"].errors
    assert repeated.status_code == 200
    assert factors_of(with_factors) == (2, 1, 1)


def test_a_tampered_session_is_ignored(client, with_factors):
    start(client, with_factors)
    session = client.session
    session["mojeid_two_factor_reset"] = "garbage"
    session.save()

    assert client.get(CONFIRM)["Location"] == START


def test_a_reset_ends_the_users_other_sessions(client, with_factors, deliver):
    """A browser still signed in elsewhere (with the key now lost, say) is signed out."""
    from django.test import Client

    from twofactor.models import SecurityKey

    elsewhere = Client()
    elsewhere.force_login(with_factors)
    session = elsewhere.session
    session["otp_device_id"] = SecurityKey.objects.filter(user=with_factors).first().persistent_id
    session.save()
    assert elsewhere.get("/settings/").status_code == 200, "verified by the key, before the reset"

    assert client.post(CONFIRM, answers(client, with_factors, deliver)).status_code == 302

    assert elsewhere.get("/settings/")["Location"].startswith("/login/")
    assert client.get("/settings/").status_code == 200, "the browser that reset stays signed in"
