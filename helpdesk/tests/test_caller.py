"""Verify caller: the operator types what the caller says and learns only match / no match per
detail; all six open a verified window for that operator and that account; failures are counted
and lock the check; until verified, the operator sees only what finds the account."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent
from helpdesk.models import VerifiedCall
from helpdesk.roles import ensure_helpdesk_group

from .callers import verify

pytestmark = pytest.mark.django_db


def _operator(make_user, sign_in_verified, name: str) -> tuple:
    member = make_user(name, is_staff=True, email=f"{name}@mojeid.example")
    member.groups.add(ensure_helpdesk_group())
    return member, sign_in_verified(Client(HTTP_ACCEPT_LANGUAGE="en"), member)


@pytest.fixture
def operator(make_user, sign_in_verified):
    return _operator(make_user, sign_in_verified, "operator")


def test_all_six_details_verify_the_caller_without_showing_what_is_stored(operator, caller):
    member, browser = operator

    page = verify(browser, caller)

    body = page.content.decode()
    assert page.status_code == 200 and 'data-testid="caller-verified"' in body
    assert body.count(">match<") == 6
    for stored in ("Nováková", "1985", "Vinohradsk", "jana@example.cz", "601123456", "123 456"):
        assert stored not in body
    assert VerifiedCall.objects.filter(operator=member, account=caller).exists()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.HELPDESK_CALLER_VERIFIED)
    assert (event.user, event.actor) == (caller, member)


@pytest.mark.parametrize(
    ("detail", "wrong"),
    [
        ("first_name", "Janina"),
        ("last_name", "Novakova"),  # diacritics count
        ("birth_date", "1985-04-13"),
        ("street", "Vinohradská 1511"),
        ("city", "Brno"),
        ("postal_code", "10001"),
        ("email", "jana@example.com"),
        ("phone", "601 123 457"),
    ],
)
def test_one_wrong_detail_alone_is_no_match_and_no_verification(operator, caller, detail, wrong):
    member, browser = operator

    body = verify(browser, caller, **{detail: wrong}).content.decode()

    assert 'data-testid="caller-not-verified"' in body
    assert body.count(">no match<") == 1 and body.count(">match<") == 5
    assert not VerifiedCall.objects.exists()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.HELPDESK_CALLER_NOT_VERIFIED)
    assert event.actor == member and len(event.details["matched"]) == 5


def test_case_spaces_and_phone_format_do_not_matter_but_diacritics_do(operator, caller):
    _member, browser = operator

    relaxed = verify(
        browser,
        caller,
        first_name="  JANA ",
        last_name="nováková",
        city=" praha",
        phone="+420 601 123 456",
        email="Jana@Example.cz",
    )

    assert 'data-testid="caller-verified"' in relaxed.content.decode()


def test_five_failures_lock_the_check_even_for_the_right_details(operator, caller):
    _member, browser = operator
    for _attempt in range(5):
        verify(browser, caller, first_name="Eva")

    locked = verify(browser, caller)

    body = locked.content.decode()
    assert 'data-testid="caller-locked"' in body and 'data-testid="caller-verified"' not in body
    assert not VerifiedCall.objects.exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.HELPDESK_CALLER_CHECK_LOCKED).exists()
    # An hour later the check is open again.
    AuditEvent.objects.filter(kind=AuditEvent.Kind.HELPDESK_CALLER_NOT_VERIFIED).update(
        created_at=timezone.now() - timedelta(hours=1, minutes=1)
    )
    assert 'data-testid="caller-verified"' in verify(browser, caller).content.decode()


def test_until_verified_the_operator_sees_only_what_finds_the_account(operator, caller):
    member, browser = operator

    before = browser.get(f"/admin/accounts/user/{caller.pk}/change/").content.decode()
    verify(browser, caller)
    after = browser.get(f"/admin/accounts/user/{caller.pk}/change/").content.decode()

    assert "Nováková" not in before and "1985" not in before and "Vinohradsk" not in before
    assert "j•••@e•••.cz" in before and "+420 ••• ••• 456" in before
    assert "Nováková" in after and "Vinohradsk" in after
    viewed = AuditEvent.objects.filter(kind=AuditEvent.Kind.HELPDESK_VIEWED_IDENTITY, actor=member)
    assert viewed.count() == 1  # the page after verification, not the masked one


def test_the_window_expires_and_another_operator_does_not_inherit_it(
    operator, caller, make_user, sign_in_verified
):
    _member, browser = operator
    _other, other_browser = _operator(make_user, sign_in_verified, "kolega")
    verify(browser, caller)

    seen_by_other = other_browser.get(f"/admin/accounts/user/{caller.pk}/change/")
    VerifiedCall.objects.update(until=timezone.now() - timedelta(seconds=1))
    expired = browser.get(f"/admin/accounts/user/{caller.pk}/change/")

    assert "Nováková" not in seen_by_other.content.decode()
    assert "Nováková" not in expired.content.decode()


def test_the_list_shows_masked_contacts_to_an_operator(operator, caller):
    _member, browser = operator

    page = browser.get("/admin/accounts/user/").content.decode()

    assert "jana" in page and "j•••@e•••.cz" in page and "jana@example.cz" not in page


def test_the_account_page_shows_the_lock_after_five_failures(operator, caller):
    _member, browser = operator
    for _attempt in range(5):
        verify(browser, caller, phone="601 000 000")

    page = browser.get(f"/admin/accounts/user/{caller.pk}/change/").content.decode()

    assert 'data-testid="caller-check-locked"' in page


def test_staff_outside_the_helpdesk_roles_cannot_verify_a_caller(
    make_user, sign_in_verified, caller
):
    member = make_user("jinak", is_staff=True, email="jinak@mojeid.example")
    browser = sign_in_verified(Client(HTTP_ACCEPT_LANGUAGE="en"), member)

    answer = verify(browser, caller)

    assert answer.status_code == 403 and not VerifiedCall.objects.exists()


def test_an_operator_sees_the_outbox_recipients_masked(operator, caller):
    from mojeid.models import OutboxMessage

    _member, browser = operator
    OutboxMessage.objects.create(
        channel="email", recipient="jana@example.cz", subject="Hello", body="x"
    )

    page = browser.get("/admin/mojeid/outboxmessage/").content.decode()

    assert "jana@example.cz" not in page and "j•••@e•••.cz" in page


def test_the_verified_calls_are_the_supervisors_to_read(operator, make_user, sign_in_verified):
    from helpdesk.roles import ensure_supervisor_group

    _member, browser = operator
    boss = make_user("vedouci", is_staff=True, email="vedouci@mojeid.example")
    boss.groups.add(ensure_supervisor_group())
    boss_browser = sign_in_verified(Client(HTTP_ACCEPT_LANGUAGE="en"), boss)

    assert browser.get("/admin/helpdesk/verifiedcall/").status_code == 403
    assert boss_browser.get("/admin/helpdesk/verifiedcall/").status_code == 200
