"""The portal's clients of the register and the data box system, over real HTTP against the
simulator on a live server: what they return, and the typed error for each way a call fails."""

import socket
from datetime import date

import pytest

from govsim.isds import seed as isds_seed
from govsim.isds import services as isds_services
from govsim.isds.models import BoxAccess, BoxType, DataBox, Person, Role
from govsim.rob import services as rob_services
from govsim.rob.models import Recipient
from govsim.rob.tests.factories import make_citizen, make_clerk
from nia_link.clients import http, isds, rob
from nia_link.exceptions import SystemAnswerInvalid, SystemRefused, SystemUnavailable
from nia_link.internal import codes

pytestmark = pytest.mark.django_db(transaction=True)


def file_at_the_desk(citizen, code: str):
    provision, _ = rob_services.file_provision(
        recipient=Recipient.objects.get(),
        request_code=code,
        citizen=citizen,
        clerk=make_clerk(),
        office="Praha 1",
    )
    return provision


def test_a_provision_filed_at_the_desk_and_the_citizen_it_names(state_systems):
    citizen = make_citizen()
    code = codes.new_code()
    filed = file_at_the_desk(citizen, code)

    page = rob.provisions(after=0)
    data = rob.citizen(page.provisions[0].citizen)

    assert [(p.id, p.request_code, p.office) for p in page.provisions] == [
        (filed.pk, code, "Praha 1")
    ]
    assert (page.cursor, page.has_more) == (filed.pk, False)
    assert rob.provisions(after=page.cursor).provisions == [], "a saved cursor reads on"
    assert (data.first_names, data.last_name, data.birth_date) == (
        "Jana",
        "Nováková",
        date(1985, 3, 14),
    )
    assert data.address.address_point_code == 21776075
    assert data.residence_type == "citizen" and data.deceased is False


def test_a_citizen_without_a_provision_for_mojeid_is_none(state_systems):
    stranger = make_citizen(first_names="Karel")

    assert rob.citizen(str(stranger.identifier)) is None


def test_a_message_to_mojeid_s_box_says_who_published_their_identity(state_systems):
    citizen = make_citizen()
    sender = Person.objects.create(
        username="jana", first_names="Jana", last_name="Nováková", citizen=citizen
    )
    box = DataBox.objects.create(box_id="jnov4k1", box_type=BoxType.FO, name="Jana Nováková")
    BoxAccess.objects.create(box=box, person=sender, role=Role.OWNER)
    portal_box = DataBox.objects.get(box_id=isds_seed.PORTAL_BOX_ID)
    sent = isds_services.send_message(
        sender,
        "jnov4k1",
        portal_box,
        "MojeID identity verification",
        "Kód ABCD",
        publish_identity=True,
    )

    page = isds.received(after=0)

    [message] = page.messages
    assert (message.id, message.sender_box_type, message.subject) == (
        sent.pk,
        "FO",
        "MojeID identity verification",
    )
    assert message.sender_person_role == "owner"
    identity = message.sender_identity
    assert (identity.first_names, identity.last_name) == ("Jana", "Nováková")
    assert identity.address.address_point_code == citizen.address_point_code


def test_a_system_that_is_down_is_unavailable(state_systems, settings):
    settings.GOVSIM_OUTAGES = ["rob"]

    with pytest.raises(SystemUnavailable) as raised:
        rob.provisions(after=0)

    assert raised.value.system == "rob"


def test_a_system_that_does_not_answer_is_unavailable(state_systems, settings):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # closed again when the block ends: nothing listens
    settings.STATE_SYSTEMS = {
        **settings.STATE_SYSTEMS,
        "rob": {"url": f"http://127.0.0.1:{port}/", "key": "k"},
    }

    with pytest.raises(SystemUnavailable):
        rob.provisions(after=0)


def test_a_wrong_key_is_refused_with_the_system_s_reason(state_systems, settings):
    settings.STATE_SYSTEMS = {
        **settings.STATE_SYSTEMS,
        "rob": {**settings.STATE_SYSTEMS["rob"], "key": "not-the-key"},
    }

    with pytest.raises(SystemRefused) as raised:
        rob.provisions(after=0)

    assert raised.value.code == "unauthorized"


def test_an_answer_that_is_not_json_is_invalid(state_systems, live_server):
    portal = http.System("rob", f"{live_server.url}/", "key", 5)

    with pytest.raises(SystemAnswerInvalid):
        http.call(portal, "GET", "login/")  # the portal's HTML sign-in page


def test_a_system_without_an_address_or_key_is_not_called(settings):
    settings.STATE_SYSTEMS = {
        **settings.STATE_SYSTEMS,
        "nia": {"url": "file:///etc/passwd", "key": "k"},
        "isds": {"url": "http://localhost/", "key": ""},
    }

    with pytest.raises(SystemUnavailable):
        http.call(http.System.configured("nia"), "GET", "x")
    with pytest.raises(SystemUnavailable):
        isds.received(after=0)
