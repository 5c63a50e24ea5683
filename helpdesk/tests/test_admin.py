"""The Django admin as the helpdesk uses it.

The admin opens only to staff whose session proved a second factor: staff without one are sent to
set one up, and the admin's own password page is the portal's. Signing in and out is audited like
the portal's own login; a password set by staff needs a fresh re-authentication, is rate-limited,
audited with the staff member as actor and announced to the user by e-mail; only superusers grant
privileges; a locked account cannot be deleted; the last sign-in comes from the audit log;
`createsuperuser` works without an e-mail; and the outbox pages never show a confirmation code.
"""

import re
from io import StringIO

import pytest
import time_machine
from django.contrib.admin.utils import display_for_value
from django.core.management import call_command
from django.test import Client
from django.utils import timezone, translation

from accounts.models import AuditEvent, Profile, User
from accounts.services.contacts import send_code
from accounts.services.profile import lock_profile
from conftest import PASSWORD
from helpdesk.roles import HELPDESK_GROUP, ensure_helpdesk_group
from mojeid import sms
from mojeid.models import OutboxMessage
from twofactor.tests.test_ceremonies import (
    CERTIFIED,
    ROOT,
    SoftKey,
    add_key,
    key_step,
    password_step,
)
from twofactor.tests.test_ceremonies import metadata as ceremony_metadata  # noqa: F401

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "modry-kun-skace-2027"
SET_UP = "The helpdesk opens only to staff with a second factor."


def _english_client() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def staff(make_user):
    return make_user("helpdesk", is_staff=True, is_superuser=True)


@pytest.fixture
def desk(staff, sign_in_verified):
    """A second browser: the helpdesk operator, signed in with a second factor."""
    return sign_in_verified(_english_client(), staff)


@pytest.fixture
def operator(make_user, sign_in_verified):
    """A helpdesk operator as the demo data makes one: staff in the group, not a superuser."""
    member = make_user("operator", is_staff=True)
    member.groups.add(ensure_helpdesk_group())
    return member, sign_in_verified(_english_client(), member)


def _last_sign_in(page: str) -> str:
    """The text of the read-only "last sign-in" field on the user change page."""
    match = re.search(
        r'field-last_sign_in.*?<div class="readonly">(.*?)</div>', page, flags=re.DOTALL
    )
    assert match, "the change page should show the last sign-in field"
    return match.group(1).strip()


# --- Signing in and out ---------------------------------------------------------------------


def test_staff_sign_in_to_the_admin_with_password_and_security_key(staff):
    browser = _english_client()
    assert password_step(browser, staff).status_code == 302
    key = SoftKey(CERTIFIED, authority=ROOT)
    assert add_key(browser, key).status_code == 200
    key.credential_id = next(iter(key.credentials))
    browser.post("/logout/")

    assert browser.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    assert browser.get("/admin/login/?next=/admin/")["Location"] == "/login/?next=/admin/"
    response = browser.post(
        "/login/", {"login": "helpdesk", "password": PASSWORD, "next": "/admin/"}
    )
    assert response["Location"] == "/login/key/", "the password alone does not open the admin"
    assert browser.get("/admin/").status_code == 302
    _assertion, verified = key_step(browser, key)

    assert verified.json()["redirect"] == "/admin/"
    assert browser.get("/admin/").status_code == 200
    assert AuditEvent.objects.filter(user=staff, kind=AuditEvent.Kind.LOGIN).count() == 2


def test_staff_without_a_second_factor_are_sent_to_set_one_up(staff):
    browser = _english_client()
    browser.post("/login/", {"login": "helpdesk", "password": PASSWORD, "next": "/admin/"})

    for page in ("/admin/", "/admin/accounts/user/", f"/admin/accounts/user/{staff.pk}/password/"):
        response = browser.get(page, follow=True)
        assert response.redirect_chain[-1][0] == "/settings/#two-factor", page
        assert SET_UP in response.content.decode()
    changed = browser.post(
        f"/admin/accounts/user/{staff.pk}/change/", {"username": "x", "is_superuser": "on"}
    )
    assert changed.status_code == 302 and User.objects.get(pk=staff.pk).username == "helpdesk"


def test_a_superuser_made_by_createsuperuser_needs_a_second_factor_too(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "admin-heslo-2027-x")
    call_command("createsuperuser", interactive=False, username="admin1", stdout=StringIO())
    browser = _english_client()

    response = browser.post("/login/", {"login": "admin1", "password": "admin-heslo-2027-x"})

    assert response.status_code == 302
    assert (
        browser.get("/admin/accounts/user/")["Location"]
        == "/admin/login/?next=/admin/accounts/user/"
    )
    assert browser.get("/admin/login/?next=/admin/accounts/user/")["Location"] == (
        "/settings/#two-factor"
    )


def test_a_citizen_gets_no_admin_and_no_redirect_loop(user, sign_in_verified):
    browser = sign_in_verified(_english_client(), user)

    assert browser.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    assert browser.get("/admin/login/?next=/admin/").status_code == 403


def test_a_wrong_admin_password_is_refused_and_audited_as_a_failed_sign_in(staff):
    browser = _english_client()

    response = browser.post("/login/", {"login": "helpdesk", "password": "wrong"})

    assert response.status_code == 200, "the login form is shown again"
    assert browser.get("/admin/").status_code == 302
    assert AuditEvent.objects.filter(user=staff, kind=AuditEvent.Kind.LOGIN_FAILED).exists()
    assert not AuditEvent.objects.filter(user=staff, kind=AuditEvent.Kind.LOGIN).exists()


def test_the_admins_own_password_page_is_the_portals(desk, staff, deliver):
    for page in ("/admin/password_change/", "/admin/password_change/done/"):
        assert desk.get(page)["Location"] in ("/settings/password/", "/settings/")
    response = desk.post(
        "/settings/password/",
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert User.objects.get(pk=staff.pk).check_password(NEW_PASSWORD)
    assert deliver()[0][-1].subject == "Your MojeID password was changed"
    assert AuditEvent.objects.filter(user=staff, kind=AuditEvent.Kind.PASSWORD_CHANGED).exists()


def test_signing_out_of_the_admin_is_audited(desk, staff):
    response = desk.post("/admin/logout/")

    assert response.status_code == 302  # to LOGOUT_REDIRECT_URL
    assert desk.get("/admin/").status_code == 302, "signed out"
    assert AuditEvent.objects.filter(user=staff, kind=AuditEvent.Kind.LOGOUT).count() == 1


# --- Setting a password ---------------------------------------------------------------------


def test_staff_setting_a_password_lets_the_user_sign_in_with_it(desk, staff, user, deliver):
    url = f"/admin/accounts/user/{user.pk}/password/"
    assert desk.get(url).status_code == 200

    response = desk.post(
        url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )

    assert response.status_code == 302, "the admin accepted the new password"
    portal = _english_client()
    assert (
        portal.post("/login/", {"login": user.username, "password": NEW_PASSWORD}).status_code
        == 302
    )
    assert portal.get("/settings/").status_code == 200


def test_staff_setting_a_password_is_audited_with_the_staff_member_as_actor(desk, staff, user):
    desk.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    events = AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.PASSWORD_CHANGED)
    assert [event.actor for event in events] == [staff]


def test_staff_setting_a_password_e_mails_the_user(desk, user, deliver):
    desk.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    emails, _ = deliver()
    assert [message.to for message in emails] == [[user.profile.email]]
    assert emails[0].subject == "Your MojeID password was changed"


def test_a_rejected_admin_password_changes_nothing(desk, user, deliver):
    response = desk.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": "something-else-2027", "usable_password": "true"},
    )

    assert response.status_code == 200, "the form is shown again with an error"
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.PASSWORD_CHANGED).exists()
    assert deliver()[0] == []


# --- Deleting accounts ----------------------------------------------------------------------


def test_staff_setting_a_password_need_a_fresh_proof_of_their_own(desk, user):
    later = timezone.now() + timezone.timedelta(minutes=6)
    with time_machine.travel(later, tick=False):
        url = f"/admin/accounts/user/{user.pk}/password/"
        shown = desk.get(url)
        posted = desk.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert shown["Location"] == "/account/reauthenticate/"
    assert posted["Location"] == "/account/reauthenticate/"
    assert User.objects.get(pk=user.pk).check_password(PASSWORD), "nothing changed"


def test_staff_setting_passwords_is_rate_limited(desk, make_user):
    users = [make_user(f"citizen{number}") for number in range(21)]
    answers = [
        desk.post(
            f"/admin/accounts/user/{target.pk}/password/",
            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
            follow=True,
        )
        for target in users
    ]

    assert all(User.objects.get(pk=target.pk).check_password(NEW_PASSWORD) for target in users[:20])
    assert User.objects.get(pk=users[20].pk).check_password(PASSWORD)
    assert "Too many attempts" in answers[20].content.decode()


def test_the_helpdesk_role_cannot_grant_privileges(operator, user):
    member, browser = operator
    url = f"/admin/accounts/user/{member.pk}/change/"
    page = browser.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert {"is_staff", "is_superuser", "groups"}.isdisjoint(form.fields)

    browser.post(
        url,
        {
            "username": member.username,
            "language": "en",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "1",
            "profile-MIN_NUM_FORMS": "1",
            "profile-MAX_NUM_FORMS": "1",
            "profile-0-user": str(member.pk),
        },
    )

    member.refresh_from_db()
    assert not member.is_superuser
    assert list(member.groups.values_list("name", flat=True)) == [HELPDESK_GROUP]


@pytest.mark.parametrize("target", ["superuser", "other staff"])
def test_the_helpdesk_role_cannot_touch_staff_accounts(operator, make_user, target):
    """Else an operator could set a superuser's password and sign in as them."""
    _member, browser = operator
    victim = make_user("root", is_staff=True, is_superuser=target == "superuser")

    password = browser.post(
        f"/admin/accounts/user/{victim.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    change = browser.post(
        f"/admin/accounts/user/{victim.pk}/change/", {"username": "root", "is_active": ""}
    )

    assert password.status_code == 403 and change.status_code == 403
    victim.refresh_from_db()
    assert victim.check_password(PASSWORD) and victim.is_active


def test_the_set_password_flow_itself_refuses_staff_targets_to_non_superusers(
    operator, make_user, rf
):
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.exceptions import PermissionDenied

    from accounts import flows
    from accounts.reauth import mark_authenticated

    member, _browser = operator
    victim = make_user("root", is_staff=True, is_superuser=True)
    request = rf.post("/")
    request.user, request.session = member, SessionStore()
    mark_authenticated(request, new_session=True)

    with pytest.raises(PermissionDenied):
        flows.set_password_for(request, victim, NEW_PASSWORD)
    assert User.objects.get(pk=victim.pk).check_password(PASSWORD)


def test_helpdesk_edits_of_an_account_need_a_fresh_proof(operator, user):
    _member, browser = operator
    url = f"/admin/accounts/user/{user.pk}/change/"
    later = timezone.now() + timezone.timedelta(minutes=6)
    with time_machine.travel(later, tick=False):
        assert browser.get(url).status_code == 200, "looking needs no proof"
        response = browser.post(url, {"username": "renamed"})

    assert response["Location"] == "/account/reauthenticate/"
    assert User.objects.get(pk=user.pk).username == user.username


def test_the_helpdesk_role_reads_accounts_and_sets_passwords_but_deletes_nothing(operator, user):
    _member, browser = operator

    assert browser.get("/admin/accounts/user/").status_code == 200
    assert browser.get("/admin/accounts/auditevent/").status_code == 200
    assert browser.get("/admin/mojeid/outboxmessage/").status_code == 200
    assert browser.get(f"/admin/accounts/user/{user.pk}/delete/").status_code == 403
    assert browser.get("/admin/auth/group/").status_code == 403
    response = browser.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302 and User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)


def test_the_demo_helpdesk_account_is_no_superuser(settings):
    call_command("load_demo_data", stdout=StringIO())

    helpdesk = User.objects.get(username="helpdesk")
    assert helpdesk.is_staff and not helpdesk.is_superuser
    assert list(helpdesk.groups.values_list("name", flat=True)) == [HELPDESK_GROUP]
    assert not helpdesk.klic_devices.exists() and not helpdesk.security_keys.exists()


def test_a_locked_account_cannot_be_deleted_from_the_admin(desk, user):
    lock_profile(user, actor=None, reason="test")
    url = f"/admin/accounts/user/{user.pk}/delete/"

    assert desk.get(url).status_code == 403
    assert desk.post(url, {"post": "yes"}).status_code == 403

    assert User.objects.filter(pk=user.pk).exists()
    assert Profile.objects.filter(pk=user.pk, locked_at__isnull=False).exists()


def test_an_unlocked_account_is_deleted_with_its_profile(desk, user):
    url = f"/admin/accounts/user/{user.pk}/delete/"
    assert desk.get(url).status_code == 200

    response = desk.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert response["Location"] == "/admin/accounts/user/"
    assert not User.objects.filter(pk=user.pk).exists()
    assert not Profile.objects.filter(pk=user.pk).exists()


# --- The change page ------------------------------------------------------------------------


def test_the_change_page_shows_no_last_sign_in_for_an_account_never_used(desk, user):
    page = desk.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()

    assert _last_sign_in(page) == "—"


def test_the_change_page_shows_a_last_sign_in_once_the_user_signed_in(desk, user):
    portal = _english_client()
    assert portal.post("/login/", {"login": user.username, "password": PASSWORD}).status_code == 302
    signed_in_at = AuditEvent.objects.get(user=user, kind=AuditEvent.Kind.LOGIN).created_at

    page = desk.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()

    shown = _last_sign_in(page)
    assert shown != "—"
    assert str(signed_in_at.year) in shown


def test_the_last_sign_in_is_shown_in_local_time_like_other_admin_dates(desk, user):
    portal = _english_client()
    assert portal.post("/login/", {"login": user.username, "password": PASSWORD}).status_code == 302
    signed_in_at = AuditEvent.objects.get(user=user, kind=AuditEvent.Kind.LOGIN).created_at

    page = desk.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()

    with translation.override("en"):
        expected = display_for_value(signed_in_at, "—")  # Europe/Prague, like "date joined"
    assert _last_sign_in(page) == expected


# --- createsuperuser ------------------------------------------------------------------------


def test_createsuperuser_without_an_e_mail_works_for_two_staff_accounts(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "admin-heslo-2027-x")

    call_command("createsuperuser", interactive=False, username="admin1", stdout=StringIO())
    call_command("createsuperuser", interactive=False, username="admin2", stdout=StringIO())

    admins = User.objects.filter(username__in=["admin1", "admin2"]).select_related("profile")
    assert {(u.username, u.is_staff, u.is_superuser) for u in admins} == {
        ("admin1", True, True),
        ("admin2", True, True),
    }
    assert [u.profile.email for u in admins] == [None, None]
    assert all(u.check_password("admin-heslo-2027-x") for u in admins)


# --- The outbox in the admin ----------------------------------------------------------------


def test_the_outbox_admin_never_shows_an_sms_code(desk, user, deliver):
    send_code(user, "phone")
    deliver()
    [sent] = sms.outbox
    pin = re.search(r"\b(\d{6})\b", sent["text"]).group(1)
    message = OutboxMessage.objects.get(channel=OutboxMessage.Channel.SMS)
    assert message.body == "", "the row forgot the code when the SMS went"

    listing = desk.get("/admin/mojeid/outboxmessage/")
    detail = desk.get(f"/admin/mojeid/outboxmessage/{message.pk}/change/")

    assert listing.status_code == 200
    assert detail.status_code == 200
    assert user.profile.phone in listing.content.decode(), "the helpdesk sees the message went"
    assert user.profile.phone in detail.content.decode()
    assert pin not in listing.content.decode()
    assert pin not in detail.content.decode()


def test_the_outbox_admin_never_shows_an_e_mail_code(desk, user, deliver):
    send_code(user, "email")
    [sent], _ = deliver()
    pin = re.search(r"\b(\d{8})\b", sent.body).group(1)
    message = OutboxMessage.objects.get(channel=OutboxMessage.Channel.EMAIL)

    listing = desk.get("/admin/mojeid/outboxmessage/").content.decode()
    detail = desk.get(f"/admin/mojeid/outboxmessage/{message.pk}/change/").content.decode()

    assert user.profile.email in listing
    assert pin not in listing
    assert pin not in detail


def test_the_klic_admin_lists_a_blocked_app_but_never_its_pin_verifier(desk, user):
    from twofactor.models import KlicDevice

    device = KlicDevice.objects.create(
        user=user,
        name="Jana's phone",
        confirmed=True,
        public_key=b"spki",
        pin_verifier="argon2$secret-verifier-hash",
        failed_pins=5,
        blocked_at=timezone.now(),
    )

    listing = desk.get("/admin/twofactor/klicdevice/").content.decode()
    detail = desk.get(f"/admin/twofactor/klicdevice/{device.pk}/change/").content.decode()

    assert "Jana&#x27;s phone" in listing or "Jana's phone" in listing
    assert "secret-verifier-hash" not in detail
    assert desk.post(f"/admin/twofactor/klicdevice/{device.pk}/delete/").status_code == 403


def test_a_devices_activation_reads_as_whose_and_until_when_in_prague_time(desk, user):
    from datetime import UTC, datetime

    from twofactor.models import KlicActivation, KlicDevice

    activation = KlicActivation.objects.create(
        user=user, code_hash="0" * 64, expires_at=datetime(2026, 12, 2, 20, 44, tzinfo=UTC)
    )
    device = KlicDevice.objects.create(
        user=user, public_key=b"spki", pin_verifier="x", activation=activation
    )

    detail = desk.get(f"/admin/twofactor/klicdevice/{device.pk}/change/").content.decode()

    assert "Activation code of jana, valid until Dec. 2, 2026, 9:44 p.m." in detail
    assert "20:44" not in detail and f"activation for {user.pk}" not in detail


def test_the_english_password_page_has_no_czech_help_text(desk, user):
    """Django's AdminPasswordChangeForm builds the help text of its "password-based
    authentication" switch at import, in the default language (Czech): the staff page has no such
    switch, and every text on it follows the page's language."""
    page = desk.get(f"/admin/accounts/user/{user.pk}/password/").content.decode()
    form = page[page.index('id="content"') :]

    assert "Your password must contain at least 10 characters." in form
    assert not re.search(r"[ěščřžýáíéůúňťďĚŠČŘŽÝÁÍÉŮÚ]", form), "no Czech on the English page"


def test_the_helpdesk_sees_unmatched_provisions_and_messages_with_what_is_known(desk):
    from nia_link.models import Unmatched

    Unmatched.objects.create(
        source="provision",
        external_id=17,
        request_code="ABCD-EFGH-JKMN",
        reason="unknown_code",
        summary={"office": "Praha 1", "filed_at": "2026-12-01T10:00:00+01:00"},
    )
    Unmatched.objects.create(
        source="message",
        external_id=4,
        request_code="",
        reason="unknown_code",
        summary={"box": "fo12345", "box_type": "FO", "sent_at": "2026-12-02T09:00:00+01:00"},
    )

    page = desk.get("/admin/nia_link/unmatched/").content.decode()
    searched = desk.get("/admin/nia_link/unmatched/?request_code=ABCD-EFGH-JKMN")

    assert "ABCD-EFGH-JKMN" in page and "Praha 1" in page and "data box fo12345" in page
    assert searched.status_code in (302, 400), "no lookups on the code"
