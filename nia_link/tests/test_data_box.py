"""The data-box route over real HTTP against the simulated data box system, register and NIA on
a live server: a citizen's message to MojeID's box verifies their request, or fails it with the
reason (another kind of box, an unpublished sender, a deceased person), the sender is answered
in their box once, and a page read twice changes nothing."""

import datetime

import pytest

from accounts.models import Profile
from govsim.isds import seed as isds_seed
from govsim.isds import services as isds_services
from govsim.isds.models import BoxAccess, BoxType, DataBox, Message, Person, Role
from govsim.rob.tests.factories import make_citizen
from nia_link import matching, services
from nia_link.exceptions import SystemUnavailable
from nia_link.models import FeedCursor, Link, LinkState, Unmatched
from twofactor.models import KlicDevice

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def requested(make_applicant):
    """Jana's request to be verified by her data box."""
    user = make_applicant("jana")
    return services.start_request(user, level="substantial", route="data_box", actor=user)


def box_of(
    box_type: str = BoxType.FO, *, role: str = Role.OWNER, box_id: str = "jnov4k1", **citizen_fields
) -> Person:
    """A box of `box_type` and its person, who is Jana of the register."""
    citizen_fields.setdefault("first_names", "Jana")
    citizen_fields.setdefault("last_name", "Nováková")
    citizen_fields.setdefault("birth_date", datetime.date(1985, 3, 14))
    citizen = make_citizen(**citizen_fields)
    person = Person.objects.create(
        username=box_id,
        first_names=citizen.first_names,
        last_name=citizen.last_name,
        birth_date=citizen.birth_date,
        citizen=citizen,
    )
    box = DataBox.objects.create(box_id=box_id, box_type=box_type, name="Jana Nováková")
    BoxAccess.objects.create(box=box, person=person, role=role)
    return person


def send(person: Person, code: str, *, publish: bool = True, box_id: str = "jnov4k1") -> Message:
    portal_box = DataBox.objects.get(box_id=isds_seed.PORTAL_BOX_ID)
    text = f"Žádám o ověření identity pro MojeID. Kód žádosti: {code.lower()}"
    return isds_services.send_message(
        person,
        box_id,
        portal_box,
        "MojeID identity verification",
        text,
        publish_identity=publish,
    )


def answers_in(box_id: str) -> list[Message]:
    return list(Message.objects.filter(recipient_box__box_id=box_id).order_by("pk"))


def test_a_message_from_the_citizen_s_own_box_verifies_the_request(
    state_systems, requested, deliver
):
    person = box_of()
    sent = send(person, requested.request_code)

    report = matching.match_messages()
    emails, _ = deliver()

    link = Link.objects.get(pk=requested.pk)
    assert report.as_dict() == {
        "read": 1,
        "verified": 1,
        "failed": 0,
        "unmatched": 0,
        "cursor": sent.pk,
        "busy": False,
    }
    assert link.state == LinkState.VERIFIED and link.bsi
    assert link.register_data["birth_date"] == "1985-03-14"
    [answer] = answers_in("jnov4k1")
    assert answer.sender_box.box_id == isds_seed.PORTAL_BOX_ID
    assert "Get access" in answer.text
    assert [mail.to for mail in emails] == [["jana@example.cz"]]
    assert FeedCursor.objects.get(feed=matching.MESSAGES_FEED).position == sent.pk


def test_an_authorised_person_of_a_natural_person_s_box_verifies_too(state_systems, requested):
    send(box_of(role=Role.AUTHORISED), requested.request_code)

    assert matching.match_messages().verified == 1


@pytest.mark.parametrize("box_type", [BoxType.PFO, BoxType.PO, BoxType.OVM])
def test_a_business_company_or_authority_box_fails_the_request_with_why(
    state_systems, requested, deliver, box_type
):
    send(box_of(box_type), requested.request_code)

    report = matching.match_messages()
    emails, _ = deliver()

    link = Link.objects.get(pk=requested.pk)
    assert (report.failed, link.state, link.end_reason) == (1, LinkState.FAILED, "box_type")
    assert "non-business natural person" in emails[0].body
    assert "non-business natural person" in answers_in("jnov4k1")[0].text


def test_a_sender_who_did_not_publish_their_identity_fails_the_request(
    state_systems, requested, deliver
):
    send(box_of(), requested.request_code, publish=False)

    matching.match_messages()
    emails, _ = deliver()

    link = Link.objects.get(pk=requested.pk)
    assert (link.state, link.end_reason) == (LinkState.FAILED, "identity_not_published")
    assert "publish your identity" in emails[0].body


def test_a_deceased_sender_fails_the_request(state_systems, requested):
    send(box_of(deceased=True, death_date=datetime.date(2026, 11, 1)), requested.request_code)

    matching.match_messages()

    link = Link.objects.get(pk=requested.pk)
    assert (link.state, link.end_reason) == (LinkState.FAILED, "deceased")


def test_a_page_read_twice_changes_nothing_and_answers_once(state_systems, requested, deliver):
    send(box_of(), requested.request_code)
    matching.match_messages()
    deliver()
    FeedCursor.objects.filter(feed=matching.MESSAGES_FEED).update(position=0)

    again = matching.match_messages()
    emails, _ = deliver()

    assert again.verified == 1
    assert Link.objects.get(pk=requested.pk).state == LinkState.VERIFIED
    assert len(answers_in("jnov4k1")) == 1, "the answer goes once"
    assert len(emails) == 1, "and the e-mail too (the outbox holds all sent so far)"


@pytest.mark.parametrize("code", ["never-issued", "cancelled", "czech-point"])
def test_a_code_of_no_open_data_box_request_is_kept_for_the_helpdesk(
    state_systems, requested, make_user, code
):
    if code == "never-issued":
        text_code = "ABCD-EFGH-JKMN"
    elif code == "cancelled":
        services.cancel_request(requested.user, actor=requested.user)
        text_code = requested.request_code
    else:
        other = make_user("petr", email="petr@example.cz")
        Profile.objects.filter(pk=other.pk).update(
            street="Dlouhá 1", city="Praha", postal_code="11000"
        )
        KlicDevice.objects.create(user=other, confirmed=True, public_key=b"k", pin_verifier="v")
        text_code = services.start_request(
            other, level="substantial", route="czech_point", actor=other
        ).request_code
    sent = send(box_of(), text_code)

    report = matching.match_messages()

    assert report.unmatched == 1 and report.verified == 0
    kept = Unmatched.objects.get(external_id=sent.pk)
    assert kept.source == "message" and kept.summary["box"] == "jnov4k1"
    assert Link.objects.get(pk=requested.pk).state in (LinkState.REQUESTED, LinkState.CANCELLED)


def test_the_data_box_system_down_stops_the_run_where_it_is(state_systems, requested, settings):
    send(box_of(), requested.request_code)
    settings.GOVSIM_OUTAGES = ["isds"]

    with pytest.raises(SystemUnavailable):
        matching.match_messages()

    settings.GOVSIM_OUTAGES = []
    assert matching.match_messages().verified == 1
