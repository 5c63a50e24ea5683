"""The NIA link's transitions so far: filing a request, its verification or failure, cancelling.

What a citizen would notice: who may file a request for which level, that one account has one
open link, what the register's answer does to it, and the e-mails."""

import uuid
from datetime import date

import pytest
from django.utils import timezone
from fido2.webauthn import AttestationObject, AuthenticatorData

from accounts.models import AuditEvent, Profile
from czechpoint import request_code as desk
from nia_link import services
from nia_link.clients.nia import Person
from nia_link.clients.rob import Address
from nia_link.exceptions import IllegalTransition, VerificationRefused
from nia_link.models import Link, LinkState
from twofactor.models import CertificationLevel, KlicDevice, SecurityKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def citizen(make_user):
    """A user with a complete profile and MojeID Klíč: may file a request for either level."""
    user = make_user("jana")
    Profile.objects.filter(pk=user.pk).update(
        street="Vinohradská 1511/230", city="Praha", postal_code="10000"
    )
    KlicDevice.objects.create(user=user, confirmed=True, public_key=b"k", pin_verifier="v")
    return user


def make_key(user, *, level=CertificationLevel.L1, user_verified=False, **fields) -> SecurityKey:
    flags = AuthenticatorData.FLAG.UP | (AuthenticatorData.FLAG.UV if user_verified else 0)
    auth_data = AuthenticatorData(bytes(32) + bytes([flags]) + bytes(4))
    values = {
        "name": "key",
        "credential_id": uuid.uuid4().hex,
        "public_key": b"k",
        "aaguid": uuid.uuid4(),
        "attestation_format": "packed",
        "attestation_object": bytes(AttestationObject.create("none", auth_data, {})),
        "key_type": "hardware",
        "certification_level": level,
        "attestation_trusted": True,
        "nia_eligible": True,
    } | fields
    return SecurityKey.objects.create(user=user, **values)


def person(**fields) -> Person:
    values = {
        "bsi": str(uuid.uuid4()),
        "first_names": "Jana",
        "last_name": "Nováková",
        "birth_date": date(1985, 3, 14),
        "birth_place": "Praha",
        "citizenship": "CZ",
        "residence_type": "citizen",
        "address": Address("Vinohradská", "1511", "230", "Vinohrady", "Praha", "10000", 21776075),
        "death_date": None,
    } | fields
    return Person(**values)


def start(user, level="substantial", route="czech_point"):
    return services.start_request(user, level=level, route=route, actor=user)


def test_a_request_gets_a_code_the_czech_point_desk_accepts(citizen):
    link = start(citizen)

    assert link.state == LinkState.REQUESTED
    assert desk.is_well_formed(link.request_code)
    assert desk.canonical(link.request_code) == link.request_code
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.NIA_LINK_REQUESTED)
    assert (event.user, event.actor, event.details["route"]) == (citizen, citizen, "czech_point")


def test_eobcanka_needs_no_code_and_one_account_has_one_open_link(citizen):
    link = start(citizen, route="eobcanka")

    assert link.request_code == ""
    with pytest.raises(IllegalTransition):
        start(citizen)
    assert Link.objects.count() == 1


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"organisation": "Firma s.r.o."}, "organisation"),
        ({"street": ""}, "address"),
        ({"first_name": ""}, "first_name"),
        ({"phone_confirmed_at": None}, "phone"),
    ],
)
def test_an_incomplete_or_business_profile_cannot_file_a_request(citizen, change, problem):
    Profile.objects.filter(pk=citizen.pk).update(**change)

    with pytest.raises(VerificationRefused) as refused:
        start(citizen)

    assert problem in refused.value.problems
    assert not Link.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.NIA_LINK_REQUESTED).exists()


def test_the_data_box_route_is_not_offered_for_level_high(citizen):
    with pytest.raises(VerificationRefused) as refused:
        start(citizen, level="high", route="data_box")

    assert refused.value.problems == ["route"]
    assert start(citizen, level="substantial", route="data_box").state == LinkState.REQUESTED


def test_without_an_eligible_authenticator_there_is_no_request(make_user, citizen):
    citizen.klic_devices.update(blocked_at=timezone.now())
    make_key(citizen, nia_eligible=False)
    make_key(citizen, use_for_public_administration=False)

    with pytest.raises(VerificationRefused) as refused:
        start(citizen)

    assert refused.value.problems == ["no_authenticator"]


@pytest.mark.parametrize(
    "level, user_verified, allowed",
    [
        (CertificationLevel.L1, True, False),
        (CertificationLevel.L2, False, False),
        (CertificationLevel.L2, True, True),
        (CertificationLevel.L3PLUS, True, True),
    ],
)
def test_level_high_needs_an_l2_key_used_with_its_pin(citizen, level, user_verified, allowed):
    citizen.klic_devices.all().delete()
    make_key(citizen, level=level, user_verified=user_verified)

    if allowed:
        assert start(citizen, level="high").level == "high"
    else:
        with pytest.raises(VerificationRefused) as refused:
            start(citizen, level="high")
        assert refused.value.problems == ["no_authenticator_high"]
        assert start(citizen).level == "substantial", "the key is good for substantial"


def test_verification_keeps_the_register_s_data_and_says_so_by_e_mail(
    citizen, deliver, django_capture_on_commit_callbacks
):
    link = start(citizen)
    found = person()

    with django_capture_on_commit_callbacks(execute=True):
        verified = services.verify(link.pk, found, document="id_card", evidence={"provision": 7})
    with django_capture_on_commit_callbacks(execute=True):
        again = services.verify(link.pk, found, evidence={"provision": 7})
    emails, _ = deliver()

    assert verified.state == again.state == LinkState.VERIFIED
    assert verified.bsi == found.bsi
    assert verified.register_data["address"]["address_point_code"] == 21776075
    assert verified.register_data["birth_date"] == "1985-03-14"
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.NIA_LINK_VERIFIED).count() == 1
    assert [email.subject for email in emails] == ["Your identity has been verified"]
    assert "Get access" in emails[0].body


def test_a_failed_request_says_why_and_stays_failed(
    citizen, deliver, django_capture_on_commit_callbacks
):
    link = start(citizen, route="data_box")

    with django_capture_on_commit_callbacks(execute=True):
        services.fail(link.pk, "deceased", evidence={"message": 3})
    services.fail(link.pk, "deceased", evidence={"message": 3})
    emails, _ = deliver()

    assert Link.objects.get(pk=link.pk).state == LinkState.FAILED
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.NIA_LINK_FAILED).count() == 1
    assert "The register records this person as deceased." in emails[0].body
    with pytest.raises(IllegalTransition):
        services.verify(link.pk, person(), evidence={})


@pytest.mark.parametrize(
    "fields, reason",
    [({"death_date": date(2026, 1, 2)}, "deceased"), ({"residence_type": "none"}, "no_residence")],
)
def test_a_person_the_register_forbids_ends_the_request_as_failed(citizen, fields, reason):
    link = start(citizen)

    ended = services.verify(link.pk, person(**fields), evidence={})

    assert (ended.state, ended.end_reason) == (LinkState.FAILED, reason)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.NIA_LINK_FAILED)
    assert event.details["reason"] == reason and event.actor is None
    with pytest.raises(IllegalTransition):
        services.verify(link.pk, person(), evidence={})


def test_cancelling_ends_a_request_once_and_frees_the_account_for_another(citizen):
    start(citizen)

    assert services.cancel_link(citizen, reason="user", actor=citizen) is True
    assert services.cancel_link(citizen, reason="user", actor=citizen) is False
    assert Link.objects.get().state == LinkState.CANCELLED
    assert start(citizen).state == LinkState.REQUESTED, "a new request may be filed"
