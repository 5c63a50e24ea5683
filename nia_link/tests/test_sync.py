"""Keeping a linked account in step with the base register, over real HTTP against the simulated
register and NIA on a live server: a change in the register reaches the profile through NIA's
feed with an e-mail listing it, a death ends the link and marks the account, NIA suspending an
authenticator shows on the key list, and a page read twice changes nothing."""

from datetime import date

import pytest

from accounts.models import AuditEvent, Profile
from govsim.nia import backchannel
from govsim.nia.models import AuthenticatorRegistration
from govsim.rob import services as rob_services
from govsim.rob.models import Citizen
from govsim.rob.tests.factories import make_citizen
from nia_link import completion, services, sync
from nia_link.clients import nia
from nia_link.exceptions import SystemUnavailable
from nia_link.models import FeedCursor, Link, LinkState, RegistrationState
from nia_link.tests.test_link_services import make_key
from twofactor.models import CertificationLevel

from .test_completion import hub  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def linked(hub, make_applicant):  # noqa: F811
    """Jana's active link (an L1 key and MojeID Klíč registered), the citizen in the register."""
    user = make_applicant("jana", first_name="Jana", last_name="Nováková")
    make_key(user, level=CertificationLevel.L1)
    citizen = make_citizen()
    link = services.start_request(user, level="substantial", route="czech_point", actor=user)
    person = nia.match_person(citizen.first_names, citizen.last_name, citizen.birth_date)
    services.verify(link.pk, person, document="id_card", evidence={"provision": 1})
    completion.complete(user, actor=user)
    sync.sync_with_register()  # whatever NIA said before the test: read
    return Link.objects.get(pk=link.pk), citizen


def test_a_move_in_the_register_reaches_the_locked_profile_with_an_e_mail(linked, deliver):
    link, citizen = linked
    rob_services.update_citizen(
        citizen,
        {
            "street": "Dlouhá",
            "house_number": "12",
            "orientation_number": "",
            "postal_code": "11000",
            "municipality_part": "Staré Město",
            "address_point_code": 21000001,
        },
    )

    report = sync.sync_with_register()
    emails, _ = deliver()

    profile = Profile.objects.get(pk=link.user_id)
    assert (report.read, report.applied) == (1, 1)
    assert (profile.street, profile.postal_code, profile.address_point_code) == (
        "Dlouhá 12",
        "11000",
        21000001,
    )
    assert profile.is_locked, "still locked: the register is the only source"
    [mail] = [e for e in emails if e.subject == "Your data from the base register changed"]
    assert "street and number" in mail.body and "postal code" in mail.body
    assert "first name" not in mail.body, "only what changed is listed"
    applied = AuditEvent.objects.get(
        kind=AuditEvent.Kind.REGISTER_DATA_APPLIED, details__source="nia_robref"
    )
    assert applied.actor is None and "street" in applied.details["fields"]


def test_a_page_read_twice_changes_nothing(linked, deliver):
    link, citizen = linked
    rob_services.update_citizen(citizen, {"last_name": "Dvořáková"})
    sync.sync_with_register()
    before = len(deliver()[0])
    FeedCursor.objects.filter(feed=sync.NOTIFICATIONS_FEED).update(position=0)

    again = sync.sync_with_register()

    assert again.applied == 0 and again.unchanged >= 1
    assert Profile.objects.get(pk=link.user_id).last_name == "Dvořáková"
    assert len(deliver()[0]) == before, "no second e-mail"


def test_a_death_in_the_register_ends_the_link_and_marks_the_account(linked, deliver):
    from django.test import Client

    from govsim.rob.tests.test_admin import change_form
    from govsim.tests.people import make_operator, signed_in_as

    link, citizen = linked
    before = len(deliver()[0])
    # Recorded by an operator in the simulator's admin.
    saved = signed_in_as(Client(), make_operator()).post(
        f"/sim/admin/sim_rob/citizen/{citizen.pk}/change/",
        change_form(citizen, deceased="on", death_date="2026-11-30"),
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]

    report = sync.sync_with_register()
    completion.reconcile()
    emails, _ = deliver()

    profile = Profile.objects.get(pk=link.user_id)
    assert report.ended == 1
    assert Link.objects.get(pk=link.pk).state == LinkState.CANCELLED
    assert set(AuthenticatorRegistration.objects.values_list("state", flat=True)) == {"Ukonceny"}
    assert profile.deceased_on == date(2026, 11, 30) and not profile.is_locked
    assert len(emails) == before, "no e-mail to a deceased person's address"
    reasons = AuditEvent.objects.filter(kind=AuditEvent.Kind.NIA_LINK_CANCELLED).values_list(
        "details__reason", flat=True
    )
    assert "deceased" in list(reasons)


def test_nia_suspending_a_key_shows_on_the_key_list(linked, client, sign_in_verified):
    link, _citizen = linked
    registration = link.registrations.get(security_key__isnull=False)
    at_nia = AuthenticatorRegistration.objects.get(identifier=registration.identifier)
    backchannel.change_by_nia(at_nia, "Neaktivni")

    report = sync.sync_with_register()
    sign_in_verified(client, link.user)
    page = client.get("/settings/").content.decode()

    registration.refresh_from_db()
    assert report.authenticators == 1
    assert registration.at_nia == RegistrationState.INACTIVE
    assert "Suspended at NIA" in page


def test_an_event_about_a_person_no_longer_linked_is_skipped_and_counted(linked):
    link, citizen = linked
    services.cancel_link(link.user, reason="user", actor=link.user)
    rob_services.update_citizen(citizen, {"last_name": "Dvořáková"})

    report = sync.sync_with_register()

    assert report.skipped >= 1 and report.applied == 0
    assert Profile.objects.get(pk=link.user_id).last_name == "Nováková"


def test_nia_down_stops_the_run_and_the_next_one_catches_up(linked, settings):
    link, citizen = linked
    rob_services.update_citizen(citizen, {"last_name": "Dvořáková"})
    settings.GOVSIM_OUTAGES = ["nia"]

    with pytest.raises(SystemUnavailable):
        sync.sync_with_register()
    settings.GOVSIM_OUTAGES = []

    assert sync.sync_with_register().applied == 1
    assert Citizen.objects.get(pk=citizen.pk).last_name == "Dvořáková"
    assert Profile.objects.get(pk=link.user_id).last_name == "Dvořáková"


def test_nia_ending_a_key_shows_on_the_key_list(linked, client, sign_in_verified):
    link, _citizen = linked
    registration = link.registrations.get(security_key__isnull=False)
    at_nia = AuthenticatorRegistration.objects.get(identifier=registration.identifier)
    backchannel.change_by_nia(at_nia, "Ukonceny")

    sync.sync_with_register()
    sign_in_verified(client, link.user)
    page = client.get("/settings/").content.decode()

    registration.refresh_from_db()
    assert (registration.at_nia, registration.wanted) == (RegistrationState.ENDED,) * 2
    assert "Ended at NIA" in page, page[page.find("<table") :][:2500]
    assert Link.objects.get(pk=link.pk).state == LinkState.ACTIVE, "Klíč still holds the link"
