"""Identical requests at once give exactly one effect and never a 5xx, on SQLite and PostgreSQL.

Each race is run against the embedded default of `make run` (SQLite, in a subprocess) and against
the live server on the test suite's PostgreSQL (`tests.races`). The losers of a race get the
answer a late request gets: a page, or the Klíč API's usual 4xx JSON. The functions named
`prepare_…` and `…_effects` run inside the portal's process (`portal.call`), so one preparation
serves both databases.
"""

import sqlite3
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import AuditEvent, ContactCode, Profile, User
from accounts.services.contacts import CODE_PURPOSE
from conftest import PASSWORD
from czechpoint import request_code
from govsim.rob.models import Citizen, DataProvisionRequest, Recipient
from govsim.rob.tests.factories import make_citizen, make_recipient
from govsim.tests.people import make_clerk
from mojeid.crypto import keyed_digest
from twofactor.klic import services as klic
from twofactor.models import KlicDevice, TwoFactorReset
from twofactor.tests.softklic import API, SoftKlic

from .races import (
    LivePortal,
    SqlitePortal,
    assert_no_server_error,
    copy_database,
    make_template,
    race,
    statuses,
)

HERE = __name__
PIN = "12345678"
SALT = b"race-test-salt16"  # one PIN verifier for all of a race's apps: derived once


# --- the portals ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """One migrated and seeded SQLite database for the session; each portal serves a copy."""
    return make_template(tmp_path_factory.mktemp("race-template"))


def serve_sqlite(template, var_dir, **environment) -> SqlitePortal:
    copy_database(template, var_dir)
    return SqlitePortal(var_dir, **environment)


@pytest.fixture(scope="module")
def sqlite_portal(sqlite_template, tmp_path_factory):
    """The embedded default, served once for the races of this module (each makes its own
    people, so they do not meet; starting the portal takes a second or two)."""
    served = serve_sqlite(sqlite_template, tmp_path_factory.mktemp("race-portal"))
    yield served
    served.stop()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.django_db(transaction=True))]
)
def portal(request):
    """The portal on either database, with `browser()` and `call()` (see `tests.races`)."""
    if request.param == "postgresql":
        return LivePortal(request.getfixturevalue("live_server"))
    served = request.getfixturevalue("sqlite_portal")
    served.call(f"{HERE}:forget_throttles")  # as `_clean_slate` does for the test suite's Redis
    return served


def signed_in(portal, username: str):
    browser = portal.browser()
    response = browser.submit("/login/", {"login": username, "password": PASSWORD})
    assert response.status_code == 302, response.text[:2000]
    return browser


def signed_in_partly(portal, username: str):
    """A browser past the password step, at the second factor's page."""
    browser = portal.browser()
    response = browser.submit("/login/", {"login": username, "password": PASSWORD})
    assert response.headers.get("Location") == "/login/klic/", response.text[:2000]
    return browser


def app_calls(portal, app: SoftKlic, endpoint: str, datas: list[dict]):
    """Calls of the app `app`, each signed with its own nonce, ready to race."""
    browser = portal.browser()
    calls = []
    for data in datas:
        body, headers = app.prepare(endpoint, data)
        headers["Content-Type"] = "application/json"
        calls.append(browser.later("POST", API + endpoint, data=body, headers=headers))
    return calls


def errors(responses) -> list[str]:
    return sorted(response.json().get("error", "") for response in responses)


# --- run inside the portal's process --------------------------------------------------------------


def forget_throttles() -> None:
    cache.clear()


def make_account(username: str, *, confirmed: bool = True) -> User:
    user = User.objects.create_user(
        username,
        PASSWORD,
        email=f"{username}@example.cz",
        phone="+420601123456",
        first_name="Jana",
        last_name="Nováková",
        language="en",
    )
    now = timezone.now()
    Profile.objects.filter(pk=user.pk).update(
        email_confirmed_at=now if confirmed else None, phone_confirmed_at=now
    )
    return user


def prepare_pin_confirmation(username: str) -> dict:
    """An account whose e-mail waits for its code (PIN), as after registration."""
    user = make_account(username, confirmed=False)
    target, now = f"{username}@example.cz", timezone.now()
    ContactCode.objects.create(
        user=user,
        channel=ContactCode.Channel.EMAIL,
        target=target,
        code_hash=keyed_digest(CODE_PURPOSE, user.pk, ContactCode.Channel.EMAIL, target, PIN),
        expires_at=now + timedelta(hours=1),
    )
    return {"username": username, "pin": PIN}


def pin_confirmation_effects(username: str) -> dict:
    profile = Profile.objects.get(user__username=username)
    return {
        "confirmed": profile.email_confirmed,
        "audited": AuditEvent.objects.filter(
            user=profile.user, kind=AuditEvent.Kind.EMAIL_CONFIRMED
        ).count(),
    }


def prepare_klic_activation(username: str) -> dict:
    """An account with an activation code on its set-up page."""
    code, _activation = klic.start_activation(make_account(username))
    return {"code": code}


def ask(device_id: str) -> dict:
    """A sign-in waiting for the app: the request as the app lists it, the number to pick."""
    login, _secret = klic.create_login_request(
        KlicDevice.objects.get(device_id=device_id),
        service="MojeID sign-in",
        http_request=RequestFactory().get("/"),
    )
    return {
        "request": {
            "id": str(login.public_id),
            "challenge": login.challenge,
            "numbers": login.number_choices,
        },
        "number": login.number,
    }


def confirm_app(device_id: str) -> None:
    """The paired app confirmed, as after its owner signed in again on the set-up page."""
    device = KlicDevice.objects.select_related("user").get(device_id=device_id)
    assert klic.confirm_pairing(device, actor=device.user)


def klic_effects(username: str) -> dict:
    user = User.objects.get(username=username)
    kinds = list(AuditEvent.objects.filter(user=user).values_list("kind", flat=True))
    return {
        "devices": KlicDevice.objects.filter(user=user).count(),
        "paired": kinds.count(AuditEvent.Kind.KLIC_PAIRED),
        "approved": kinds.count(AuditEvent.Kind.KLIC_LOGIN_APPROVED),
        "wrong_pins": kinds.count(AuditEvent.Kind.KLIC_WRONG_PIN),
    }


def prepare_two_factor_account(username: str) -> dict:
    """An account whose second factor is MojeID Klíč (lost, so its owner asks for a reset)."""
    user = make_account(username)
    KlicDevice.objects.create(user=user, confirmed=True, public_key=b"lost", pin_verifier="lost")
    return {"username": username}


def reset_effects(username: str) -> dict:
    reset = TwoFactorReset.objects.get(user__username=username)
    failures = [
        event.details
        for event in AuditEvent.objects.filter(
            user=reset.user, kind=AuditEvent.Kind.TWO_FACTOR_RESET_FAILED
        )
    ]
    return {
        "failed_attempts": reset.failed_attempts,
        "wrong": sorted(details["attempt"] for details in failures if "attempt" in details),
        "spent": sum(details.get("reason") == "not_running" for details in failures),
    }


def prepare_filing(clerk: str) -> dict:
    """A clerk of the desk, a citizen to serve, the portal as the recipient, a request code."""
    make_clerk(clerk, password=PASSWORD)
    recipient = Recipient.objects.filter(code="mojeid").first() or make_recipient()
    citizen = make_citizen(last_name=f"Závodná-{clerk}")
    return {
        "clerk": clerk,
        "citizen": str(citizen.identifier),
        "recipient": recipient.pk,
        "code": request_code.generate(),
    }


def filing_effects(citizen: str) -> dict:
    provisions = DataProvisionRequest.objects.filter(
        citizen=Citizen.objects.get(identifier=citizen)
    )
    return {"provisions": list(provisions.values_list("pk", flat=True))}


# --- the races ------------------------------------------------------------------------------------


def test_a_pin_confirmation_sent_at_once_confirms_once_and_each_copy_says_so(portal):
    account = portal.call(f"{HERE}:prepare_pin_confirmation", username="pin")
    browser = signed_in(portal, account["username"])
    token = browser.csrf_token("/account/confirm/")
    send = browser.later(
        "POST",
        "/account/confirm/email/",
        data={"code": account["pin"], "csrfmiddlewaretoken": token},
    )

    responses = race([send] * 4)

    assert_no_server_error(responses, portal.log)
    assert statuses(responses) == [302] * 4
    assert portal.call(f"{HERE}:pin_confirmation_effects", username="pin") == {
        "confirmed": True,
        "audited": 1,
    }
    # A copy that came second is a late request: the address is confirmed, and it says so.
    for response in responses:
        page = browser.get(response.headers["Location"], cookies=response.cookies)
        assert "Your e-mail address is confirmed." in page.text
        assert "has expired" not in page.text


@pytest.mark.django_db
def test_a_late_copy_of_a_used_pin_says_confirmed_and_a_wrong_pin_does_not(client):
    prepare_pin_confirmation("late")
    assert client.post("/login/", {"login": "late", "password": PASSWORD}).status_code == 302

    first = client.post("/account/confirm/email/", {"code": PIN}, follow=True)
    late = client.post("/account/confirm/email/", {"code": PIN}, follow=True)
    wrong = client.post("/account/confirm/email/", {"code": "87654321"}, follow=True)

    assert "Your e-mail address is confirmed." in first.content.decode()
    assert "Your e-mail address is confirmed." in late.content.decode()
    assert "The code has expired or was never sent." in wrong.content.decode()
    assert pin_confirmation_effects("late") == {"confirmed": True, "audited": 1}


def test_a_klic_approval_sent_at_once_approves_once_and_the_rest_are_not_pending(portal):
    activation = portal.call(f"{HERE}:prepare_klic_activation", username="approver")
    app = SoftKlic(portal.browser(), salt=SALT)
    assert app.pair(activation["code"]).status_code == 201
    portal.call(f"{HERE}:confirm_app", device_id=app.device_id)

    # An approval's transaction is short: three sign-ins make sure that copies overlap.
    for _sign_in in range(3):
        asked = portal.call(f"{HERE}:ask", device_id=app.device_id)
        approval = app.approval(asked["request"], number=asked["number"])

        responses = race(app_calls(portal, app, "approve", [approval] * 8))

        assert_no_server_error(responses, portal.log)
        assert statuses(responses) == [200] + [409] * 7
        assert errors(responses) == [""] + ["not_pending"] * 7
    effects = portal.call(f"{HERE}:klic_effects", username="approver")
    assert effects["approved"] == 3 and effects["wrong_pins"] == 0


def test_one_activation_code_paired_by_many_apps_at_once_pairs_one(portal):
    activation = portal.call(f"{HERE}:prepare_klic_activation", username="pairer")
    apps = [SoftKlic(portal.browser(), salt=SALT) for _ in range(12)]
    calls = [
        call
        for app in apps
        for call in app_calls(portal, app, "pair", [app.pairing(activation["code"])])
    ]

    responses = race(calls)

    assert_no_server_error(responses, portal.log)
    assert statuses(responses) == [201] + [400] * 11
    assert errors(responses)[1:] == ["invalid_code"] * 11
    effects = portal.call(f"{HERE}:klic_effects", username="pairer")
    assert effects["devices"] == 1 and effects["paired"] == 1


def test_a_czech_point_filing_submitted_at_once_files_one_provision(portal):
    filing = portal.call(f"{HERE}:prepare_filing", clerk="zavodnice")
    desk = portal.browser()
    signed = desk.submit(
        "/sim/czechpoint/login/", {"username": filing["clerk"], "password": PASSWORD}
    )
    assert signed.status_code == 302, signed.text[:2000]
    path = f"/sim/czechpoint/file/{filing['citizen']}/"
    send = desk.later(
        "POST",
        path,
        data={
            "request_code": filing["code"],
            "recipient": filing["recipient"],
            "csrfmiddlewaretoken": desk.csrf_token(path),
        },
    )

    responses = race([send] * 4)

    assert_no_server_error(responses, portal.log)
    assert statuses(responses) == [302] * 4
    (provision,) = portal.call(f"{HERE}:filing_effects", citizen=filing["citizen"])["provisions"]
    receipt = f"/sim/czechpoint/receipt/{provision}/"
    assert {response.headers["Location"] for response in responses} == {receipt}


def test_wrong_reset_answers_sent_at_once_are_each_counted_and_never_past_the_limit(portal):
    account = portal.call(f"{HERE}:prepare_two_factor_account", username="resetter")
    browser = signed_in_partly(portal, account["username"])
    assert browser.submit("/login/reset/", {}).headers["Location"] == "/login/reset/confirm/"
    wrong = {"control_code": "AAAAAA", "email_code": "1", "phone_code": "2", "password": "x"}
    token = browser.csrf_token("/login/reset/confirm/")
    send = browser.later(
        "POST", "/login/reset/confirm/", data={**wrong, "csrfmiddlewaretoken": token}
    )

    responses = race([send] * 7)

    assert_no_server_error(responses, portal.log)
    assert statuses(responses) == [200] * 7
    # Five wrong answers spend the reset, one after the other; the last two find it spent.
    assert portal.call(f"{HERE}:reset_effects", username="resetter") == {
        "failed_attempts": 5,
        "wrong": [1, 2, 3, 4, 5],
        "spent": 2,
    }


# --- while another process writes ----------------------------------------------------------------


@contextmanager
def write_lock(portal: SqlitePortal):
    """Hold SQLite's write lock from another process (a long migration, the worker) meanwhile."""
    holder = sqlite3.connect(portal.var_dir / "db.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_while_another_process_writes_polls_answer_and_a_klic_call_past_the_wait_is_a_503(
    sqlite_template, tmp_path
):
    portal = serve_sqlite(sqlite_template, tmp_path / "var", SQLITE_BUSY_TIMEOUT_SECONDS="0.2")
    try:
        activation = portal.call(f"{HERE}:prepare_klic_activation", username="waiter")
        app = SoftKlic(portal.browser(), salt=SALT)
        assert app.pair(activation["code"]).status_code == 201
        portal.call(f"{HERE}:confirm_app", device_id=app.device_id)
        browser = signed_in_partly(portal, "waiter")
        csrf = {"X-CSRFToken": browser.csrf_token("/login/")}
        number = browser.post("/login/klic/start/", headers=csrf).json()["number"]
        (request,) = app.requests()

        with write_lock(portal):
            # Reading takes no write lock: the waiting page's poll answers at once.
            poll = browser.get("/login/klic/status/")
            busy = app.approve(request, number=number)

        assert poll.status_code == 200 and poll.json()["status"] == "pending"
        assert busy.status_code == 503, busy.text[:2000]
        assert busy.json()["error"] == "busy"
        assert int(busy.headers["Retry-After"]) > 0
        # Nothing was decided: the app tries again, and the browser signs in.
        assert app.approve(request, number=number).status_code == 200
        assert browser.get("/login/klic/status/").json()["status"] == "approved"
    finally:
        portal.stop()


def test_a_page_that_meets_the_lock_past_the_wait_is_a_503_try_again_page(
    sqlite_template, tmp_path
):
    portal = serve_sqlite(sqlite_template, tmp_path / "var", SQLITE_BUSY_TIMEOUT_SECONDS="0.2")
    try:
        account = portal.call(f"{HERE}:prepare_pin_confirmation", username="patient")
        browser = signed_in(portal, account["username"])
        token = browser.csrf_token("/account/confirm/")

        with write_lock(portal):
            busy = browser.post(
                "/account/confirm/email/",
                data={"code": account["pin"], "csrfmiddlewaretoken": token},
                headers={"Accept-Language": "en"},
            )

        assert busy.status_code == 503, busy.text[:2000]
        assert "busy at the moment" in busy.text and "Traceback" not in busy.text
        assert int(busy.headers["Retry-After"]) > 0
        assert portal.call(f"{HERE}:pin_confirmation_effects", username="patient") == {
            "confirmed": False,
            "audited": 0,
        }
        again = browser.post(
            "/account/confirm/email/", data={"code": account["pin"], "csrfmiddlewaretoken": token}
        )
        assert again.status_code == 302
        assert portal.call(f"{HERE}:pin_confirmation_effects", username="patient")["confirmed"]
    finally:
        portal.stop()


# --- the NIA link: filing a request, cancelling it, Complete ------------------------------------


def point_state_systems_at(url: str) -> dict:
    """Make the portal's clients call the simulator it embeds at `url`; the old settings, for
    `restore_state_systems` (the live server shares this test process's settings)."""
    from django.conf import settings

    from govsim.nia import seed as nia_seed
    from govsim.rob import seed as rob_seed

    before = {"systems": settings.STATE_SYSTEMS, "timeout": settings.STATE_SYSTEMS_TIMEOUT_SECONDS}
    settings.STATE_SYSTEMS = {
        name: {**entry, "url": f"{url}/sim/{name}/api/v1/"}
        for name, entry in settings.STATE_SYSTEMS.items()
    }
    settings.STATE_SYSTEMS_TIMEOUT_SECONDS = 10
    from govsim.nia.models import ServiceProvider

    rob_seed.seed_portal()
    if not ServiceProvider.objects.exists():  # the embedded default is seeded already
        nia_seed.seed(url)
    return before


def restore_state_systems(systems: dict, timeout: float) -> None:
    from django.conf import settings

    settings.STATE_SYSTEMS, settings.STATE_SYSTEMS_TIMEOUT_SECONDS = systems, timeout


def prepare_linking(username: str, *, verified: bool = False, active: bool = False) -> dict:
    """An account ready to ask for access (a complete profile, MojeID Klíč), a browser session
    signed in a moment ago with password and Klíč; with `verified`, its request already verified
    by the register (as after Czech POINT), for Complete."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from nia_link import services as link_services
    from nia_link.clients import nia

    user = make_account(username)
    Profile.objects.filter(pk=user.pk).update(
        street="Vinohradská 1511/230", city="Praha", postal_code="10000"
    )
    device = KlicDevice.objects.create(user=user, confirmed=True, public_key=b"k", pin_verifier="v")
    if verified:
        citizen = make_citizen(last_name=f"Nováková-{username}")
        link = link_services.start_request(
            user, level="substantial", route="czech_point", actor=user
        )
        person = nia.match_person(citizen.first_names, citizen.last_name, citizen.birth_date)
        link_services.verify(link.pk, person, document="id_card", evidence={"provision": 0})
        if active:
            from nia_link import completion

            completion.complete(user, actor=user)
    user.otp_device = device  # signed in with the second factor: the re-authentication is fresh
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return {"session": session.session_key}


def linking_effects(username: str) -> dict:
    from govsim.nia.models import AuthenticatorRegistration
    from nia_link.models import Link

    user = User.objects.get(username=username)
    kinds = list(AuditEvent.objects.filter(user=user).values_list("kind", flat=True))
    return {
        "links": sorted(Link.objects.filter(user=user).values_list("state", flat=True)),
        "requested": kinds.count(AuditEvent.Kind.NIA_LINK_REQUESTED),
        "cancelled": kinds.count(AuditEvent.Kind.NIA_LINK_CANCELLED),
        "activated": kinds.count(AuditEvent.Kind.NIA_LINK_ACTIVATED),
        "registrations": sorted(
            Link.objects.filter(user=user).values_list("registrations__identifier", flat=True)
        ),
        "at_nia": AuthenticatorRegistration.objects.count(),
    }


def linking_browser(portal, username: str, **options):
    prepared = portal.call(f"{HERE}:prepare_linking", username=username, **options)
    browser = portal.browser()
    browser.session.cookies.set("sessionid", prepared["session"])
    return browser


def test_get_access_continued_at_once_files_one_request_and_cancel_cancels_it_once(portal):
    browser = linking_browser(portal, "zadatelka")
    path = "/settings/public-administration/substantial/"
    token = browser.csrf_token(path)
    file = browser.later("POST", path, data={"route": "data_box", "csrfmiddlewaretoken": token})

    filed = race([file] * 6)
    cancel = browser.later(
        "POST",
        "/settings/public-administration/request/cancel/",
        data={"csrfmiddlewaretoken": token},
    )
    cancelled = race([cancel] * 6)

    assert_no_server_error([*filed, *cancelled], portal.log)
    assert statuses(filed) == [302] * 6 and statuses(cancelled) == [302] * 6
    assert {r.headers["Location"] for r in filed} <= {
        "/settings/public-administration/data-box/",
        "/settings/#public-administration",
    }
    effects = portal.call(f"{HERE}:linking_effects", username="zadatelka")
    assert (effects["links"], effects["requested"], effects["cancelled"]) == (["cancelled"], 1, 1)


def test_complete_clicked_at_once_completes_once(portal):
    # The name the portal is served under (the embedded default redirects 127.0.0.1 to it).
    served_at = f"http://{portal.host}" if hasattr(portal, "host") else portal.browser().base_url
    before = portal.call(f"{HERE}:point_state_systems_at", url=served_at)
    try:
        browser = linking_browser(portal, "dokoncujici", verified=True)
        path = "/settings/public-administration/complete/"
        token = browser.csrf_token(path)
        complete = browser.later("POST", path, data={"csrfmiddlewaretoken": token})

        responses = race([complete] * 6)

        assert_no_server_error(responses, portal.log)
        assert statuses(responses) == [302] * 6
        effects = portal.call(f"{HERE}:linking_effects", username="dokoncujici")
        assert effects["links"] == ["active"] and effects["activated"] == 1
        assert len(effects["registrations"]) == 1 and effects["at_nia"] == 1
    finally:
        portal.call(f"{HERE}:restore_state_systems", **before)


def test_remove_access_clicked_at_once_removes_it_once(portal):
    served_at = f"http://{portal.host}" if hasattr(portal, "host") else portal.browser().base_url
    before = portal.call(f"{HERE}:point_state_systems_at", url=served_at)
    try:
        browser = linking_browser(portal, "odebirajici", verified=True, active=True)
        path = "/settings/public-administration/remove/"
        token = browser.csrf_token(path)
        remove = browser.later("POST", path, data={"csrfmiddlewaretoken": token})

        responses = race([remove] * 6)

        assert_no_server_error(responses, portal.log)
        assert statuses(responses) == [302] * 6
        effects = portal.call(f"{HERE}:linking_effects", username="odebirajici")
        assert effects["links"] == ["cancelled"] and effects["cancelled"] == 1
    finally:
        portal.call(f"{HERE}:restore_state_systems", **before)


# --- Get for a later key, and the sign-in through NIA ------------------------------------------


def prepare_later_key(username: str) -> dict:
    """An active link (MojeID Klíč registered with NIA), a second, certified key, and NIA's
    confirmation for it a moment ago (as after Get → Verify → NIA): only Complete is left."""
    from nia_link.models import KeyVerification, Link, LinkState
    from twofactor.models import SecurityKey

    prepared = prepare_linking(username, verified=True, active=True)
    user = User.objects.get(username=username)
    key = SecurityKey.objects.create(
        user=user,
        name="Druhý klíč",
        credential_id=f"cred-{username}",
        public_key=b"x",
        aaguid="c0c0c0c0-0000-4000-8000-000000000001",
        attestation_format="packed",
        attestation_object=b"",
        key_type="cross-platform",
        nia_eligible=True,
        use_for_public_administration=True,
    )
    link = Link.objects.get(user=user, state=LinkState.ACTIVE)
    KeyVerification.objects.create(
        link=link, security_key=key, level="substantial", assertion_id=f"_a-{username}"
    )
    return {**prepared, "key": key.pk}


def later_key_effects(username: str) -> dict:
    from govsim.nia.models import AuthenticatorRegistration
    from nia_link.models import Registration

    user = User.objects.get(username=username)
    return {
        "registrations": Registration.objects.filter(
            link__user=user, security_key__isnull=False
        ).count(),
        "confirmed": Registration.objects.filter(
            link__user=user, security_key__isnull=False, at_nia="active"
        ).count(),
        # This account's only: the SQLite portal serves one database to the module's tests.
        "at_nia": AuthenticatorRegistration.objects.filter(
            state="Aktivni",
            identifier__in=Registration.objects.filter(link__user=user).values("identifier"),
        ).count(),
        "added": AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.NIA_KEY_ADDED).count(),
    }


def test_complete_for_a_later_key_clicked_at_once_registers_it_once(portal):
    served_at = f"http://{portal.host}" if hasattr(portal, "host") else portal.browser().base_url
    before = portal.call(f"{HERE}:point_state_systems_at", url=served_at)
    try:
        prepared = portal.call(f"{HERE}:prepare_later_key", username="druhyklic")
        browser = portal.browser()
        browser.session.cookies.set("sessionid", prepared["session"])
        path = f"/settings/public-administration/keys/{prepared['key']}/complete/"
        token = browser.csrf_token(path)
        complete = browser.later("POST", path, data={"csrfmiddlewaretoken": token})

        responses = race([complete] * 6)

        assert_no_server_error(responses, portal.log)
        assert statuses(responses) == [302] * 6
        effects = portal.call(f"{HERE}:later_key_effects", username="druhyklic")
        assert effects == {"registrations": 1, "confirmed": 1, "at_nia": 2, "added": 1}
    finally:
        portal.call(f"{HERE}:restore_state_systems", **before)


def prepare_sign_in(username: str, served_at: str) -> dict:
    """A linked account signed in a moment ago with password and its registered MojeID Klíč,
    and NIA's AuthnRequest for it waiting at the portal's identity provider."""
    import time

    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore

    from nia_link.models import SignInRequest
    from twofactor.flows import FACTOR_PROOF

    prepared = prepare_linking(username, verified=True, active=True)
    settings.NIA_SAML_BROKER_METADATA_URL = f"{served_at}/sim/nia/saml/broker/metadata/"
    settings.PORTAL_URL = served_at
    device = KlicDevice.objects.get(user__username=username)
    store = SessionStore(session_key=prepared["session"])
    store[FACTOR_PROOF] = {"key": None, "klic": device.pk, "user_verified": True, "at": time.time()}
    store.save()
    sign_in = SignInRequest.objects.create(
        token=f"race-{username}",
        request_id=f"_race-{username}",
        service_name="Portál občana",
        level="substantial",
        request={
            "id": f"_race-{username}",
            "issued_at": timezone.now().isoformat(),
            "acs_url": f"{served_at}/sim/nia/saml/broker/acs/",
            "level": "substantial",
            "levels": ["http://eidas.europa.eu/LoA/substantial"],
            "comparison": "minimum",
            "relay_state": "race",
            "service_name": "Portál občana",
            "service_entity_id": "",
            "force_authn": False,
            "is_passive": False,
        },
    )
    return {**prepared, "token": sign_in.token}


def sign_in_effects(username: str) -> dict:
    user = User.objects.get(username=username)
    return {
        "signed_in": AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.NIA_SIGN_IN).count()
    }


def test_a_sign_in_answered_from_several_tabs_at_once_answers_nia_once(portal):
    served_at = f"http://{portal.host}" if hasattr(portal, "host") else portal.browser().base_url
    before = portal.call(f"{HERE}:point_state_systems_at", url=served_at)
    try:
        prepared = portal.call(
            f"{HERE}:prepare_sign_in", username="prihlasujici", served_at=served_at
        )
        browser = portal.browser()
        browser.session.cookies.set("sessionid", prepared["session"])
        # The browser NIA sent with the request (the binding cookie of the SSO's answer).
        browser.session.cookies.set(f"mojeid_idp_{prepared['token'][:16]}", prepared["token"])
        page = browser.later("GET", f"/nia/idp/signin/{prepared['token']}/")

        responses = race([page] * 6)

        assert_no_server_error(responses, portal.log)
        answered = [r for r in responses if 'name="SAMLResponse"' in r.text]
        assert len(answered) == 1, statuses(responses)
        assert statuses(responses) == [200] + [410] * 5
        assert portal.call(f"{HERE}:sign_in_effects", username="prihlasujici") == {"signed_in": 1}
    finally:
        portal.call(f"{HERE}:restore_state_systems", **before)
