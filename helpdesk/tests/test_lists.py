"""The helpdesk's lists: requests for access by state, and the audit timeline of an account —
the audit of staff for supervisors only."""

import pytest
from django.test import Client

from accounts.audit import record
from accounts.models import AuditEvent
from helpdesk.roles import ensure_helpdesk_group, ensure_supervisor_group
from nia_link.models import Link, LinkState

pytestmark = pytest.mark.django_db


def _staff(make_user, sign_in_verified, name: str, group) -> tuple:
    member = make_user(name, is_staff=True, email=f"{name}@mojeid.example")
    member.groups.add(group)
    return member, sign_in_verified(Client(HTTP_ACCEPT_LANGUAGE="en"), member)


def test_an_operator_sees_a_citizens_timeline_but_not_the_audit_of_staff(
    make_user, sign_in_verified, caller
):
    operator, browser = _staff(make_user, sign_in_verified, "operator", ensure_helpdesk_group())
    _boss, boss_browser = _staff(make_user, sign_in_verified, "vedouci", ensure_supervisor_group())
    record(AuditEvent.Kind.PASSWORD_CHANGED, user=caller)
    record(AuditEvent.Kind.PASSWORD_CHANGED, user=operator)

    account_page = browser.get(f"/admin/accounts/user/{caller.pk}/change/").content.decode()
    timeline = browser.get(f"/admin/accounts/auditevent/?user={caller.pk}").content.decode()
    everything = browser.get("/admin/accounts/auditevent/?kind=password_changed").content.decode()
    as_supervisor = boss_browser.get(
        "/admin/accounts/auditevent/?kind=password_changed"
    ).content.decode()

    assert f"/admin/accounts/auditevent/?user={caller.pk}" in account_page
    assert "1 audit event" in timeline
    assert "1 audit event" in everything  # the operator's own event is the supervisors'
    assert "2 audit events" in as_supervisor


def test_requests_for_access_are_listed_by_state(make_user, sign_in_verified, caller):
    _operator, browser = _staff(make_user, sign_in_verified, "operator", ensure_helpdesk_group())
    Link.objects.create(
        user=caller, state=LinkState.REQUESTED, level="substantial", route="czech_point"
    )
    other = make_user("petr", email="petr@example.cz")
    Link.objects.create(
        user=other,
        state=LinkState.FAILED,
        level="substantial",
        route="data_box",
        end_reason="box_type",
    )

    waiting = browser.get("/admin/nia_link/link/?state__exact=requested").content.decode()
    failed = browser.get("/admin/nia_link/link/?state__exact=failed").content.decode()

    assert ">jana<" in waiting and ">petr<" not in waiting
    assert ">petr<" in failed and ">jana<" not in failed
    assert "Nováková" not in waiting  # the username finds the account; the identity waits


def test_an_unmatched_provision_names_its_likely_account_to_a_supervisor_only(
    make_user, sign_in_verified, caller
):
    from nia_link.models import Unmatched

    _operator, browser = _staff(make_user, sign_in_verified, "operator", ensure_helpdesk_group())
    _boss, boss_browser = _staff(make_user, sign_in_verified, "vedouci", ensure_supervisor_group())
    Link.objects.create(
        user=caller,
        state=LinkState.CANCELLED,
        level="substantial",
        route="czech_point",
        request_code="ABCD-EFGH-JKLM",
    )
    Unmatched.objects.create(
        source="provision",
        external_id=7,
        request_code="ABCD-EFGH-JKLM",
        reason="request_cancelled",
        summary={"office": "Praha 1"},
    )

    as_operator = browser.get("/admin/nia_link/unmatched/").content.decode()
    as_supervisor = boss_browser.get("/admin/nia_link/unmatched/").content.decode()

    assert "known; shown after a verified call" in as_operator and ">jana<" not in as_operator
    assert "jana" in as_supervisor
