"""What a verified call allows, each through the citizen's own services with the operator as
actor: cancel access to public administration services (at once, even with NIA down), remove a
lost key, unblock MojeID Klíč, send a password-reset link. Without a verified window, nothing."""

import time

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.reauth import REAUTH_AT
from helpdesk.roles import ensure_helpdesk_group
from nia_link.models import Link, LinkState, Registration
from twofactor.models import KlicDevice, SecurityKey

from .callers import verify

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator(make_user, sign_in_verified):
    member = make_user("operator", is_staff=True, email="operator@mojeid.example")
    member.groups.add(ensure_helpdesk_group())
    return member, sign_in_verified(Client(HTTP_ACCEPT_LANGUAGE="en"), member)


def act(browser, account, action: str, **more):
    return browser.post(f"/admin/accounts/user/{account.pk}/act/", {"action": action, **more})


def _key(user, name="Ztracený klíč") -> SecurityKey:
    return SecurityKey.objects.create(
        user=user,
        name=name,
        credential_id=f"cred-{name}",
        public_key=b"x",
        aaguid="c0c0c0c0-0000-4000-8000-000000000001",
        attestation_format="none",
        attestation_object=b"",
        key_type="unknown",
    )


def _active_link(user, key) -> Link:
    link = Link.objects.create(
        user=user, state=LinkState.ACTIVE, level="substantial", route="czech_point", bsi="b" * 36
    )
    Registration.objects.create(
        link=link,
        identifier="mojeid-key-lost",
        security_key=key,
        level="substantial",
        wanted="active",
        at_nia="active",
    )
    return link


def test_without_a_verified_window_no_action_is_taken(operator, caller):
    _member, browser = operator
    key = _key(caller)
    link = _active_link(caller, key)
    device = KlicDevice.objects.create(
        user=caller, confirmed=True, public_key=b"k", pin_verifier="v", blocked_at=timezone.now()
    )

    answers = [
        act(browser, caller, "cancel_access"),
        act(browser, caller, "remove_key", key=str(key.pk)),
        act(browser, caller, "unblock_klic"),
        act(browser, caller, "password_reset"),
    ]

    assert {answer.status_code for answer in answers} == {302}
    link.refresh_from_db()
    device.refresh_from_db()
    assert link.state == LinkState.ACTIVE and SecurityKey.objects.filter(pk=key.pk).exists()
    assert device.blocked
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.PASSWORD_RESET_REQUESTED).exists()
    page = browser.get(f"/admin/accounts/user/{caller.pk}/verify-caller/").content.decode()
    assert "Verify the caller first." in page


def test_cancel_access_ends_the_link_at_once_with_nia_down(operator, caller, deliver):
    member, browser = operator
    link = _active_link(caller, _key(caller))
    verify(browser, caller)

    act(browser, caller, "cancel_access")

    link.refresh_from_db()
    assert link.state == LinkState.ENDING  # ended here; the task tells NIA until it confirms
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.NIA_LINK_CANCELLED)
    assert (event.user, event.actor) == (caller, member)
    assert any("cancelled" in mail.subject.lower() for mail in deliver()[0])


def test_removing_a_lost_key_removes_it_and_its_registration(operator, caller, deliver):
    member, browser = operator
    lost, kept = _key(caller), _key(caller, "Doma")
    link = _active_link(caller, lost)
    Registration.objects.create(
        link=link,
        identifier="mojeid-key-kept",
        security_key=kept,
        level="substantial",
        wanted="active",
        at_nia="active",
    )
    verify(browser, caller)

    act(browser, caller, "remove_key", key=str(lost.pk))

    assert not SecurityKey.objects.filter(pk=lost.pk).exists()
    assert Registration.objects.get(identifier="mojeid-key-lost").wanted == "ended"
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SECURITY_KEY_REMOVED)
    assert event.actor == member
    assert any("removed" in mail.subject.lower() for mail in deliver()[0])


def test_another_accounts_key_is_not_removed(operator, caller, make_user):
    _member, browser = operator
    other = make_user("petr", email="petr@example.cz")
    theirs = _key(other, "Petrův")
    verify(browser, caller)

    act(browser, caller, "remove_key", key=str(theirs.pk))

    assert SecurityKey.objects.filter(pk=theirs.pk).exists()


def test_unblocking_klic_has_no_daily_limit_for_the_helpdesk(operator, caller, deliver):
    member, browser = operator
    device = KlicDevice.objects.create(
        user=caller,
        confirmed=True,
        public_key=b"k",
        pin_verifier="v",
        blocked_at=timezone.now(),
        last_unblocked_at=timezone.now(),
    )
    verify(browser, caller)

    act(browser, caller, "unblock_klic")

    device.refresh_from_db()
    assert not device.blocked
    assert AuditEvent.objects.filter(actor=member, user=caller, kind="klic_unblocked").exists()


def test_a_password_reset_link_goes_to_the_confirmed_e_mail(operator, caller, deliver):
    member, browser = operator
    verify(browser, caller)

    act(browser, caller, "password_reset")

    mails = deliver()[0]
    assert mails[-1].to == ["jana@example.cz"] and "/password/reset/" in mails[-1].body
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PASSWORD_RESET_REQUESTED)
    assert event.actor == member


def test_an_action_needs_a_fresh_proof_of_the_operator(operator, caller):
    _member, browser = operator
    link = _active_link(caller, _key(caller))
    verify(browser, caller)
    session = browser.session
    session[REAUTH_AT] = time.time() - 3600
    session.save()

    answer = act(browser, caller, "cancel_access")

    assert answer.status_code == 302 and "reauthenticate" in answer["Location"]
    link.refresh_from_db()
    assert link.state == LinkState.ACTIVE


def test_after_re_authenticating_the_operator_is_back_on_the_callers_page(operator, caller):
    _member, browser = operator

    resumed = browser.get(f"/admin/accounts/user/{caller.pk}/act/")

    assert resumed.status_code == 302
    assert resumed["Location"].endswith(f"/admin/accounts/user/{caller.pk}/verify-caller/")
