"""The portal's client of NIA's identity-provider interface, over real HTTP against the simulated
NIA on a live server: matching a person, registering and changing authenticators, the feed."""

from datetime import date

import pytest

from govsim.nia import backchannel
from govsim.nia import seed as nia_seed
from govsim.nia import services as nia_services
from govsim.nia.models import AuthenticatorRegistration, ServiceProvider
from govsim.rob import services as rob_services
from govsim.rob.tests.factories import make_citizen
from nia_link.clients import nia
from nia_link.exceptions import SystemRefused, SystemUnavailable

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hub(live_server, settings):
    nia_seed.seed(live_server.url)
    settings.STATE_SYSTEMS = {
        **settings.STATE_SYSTEMS,
        "nia": {**settings.STATE_SYSTEMS["nia"], "url": f"{live_server.url}/sim/nia/api/v1/"},
    }
    settings.STATE_SYSTEMS_TIMEOUT_SECONDS = 5
    return ServiceProvider.objects.get()


def test_a_person_is_matched_with_their_bsi_and_the_register_s_data(hub):
    citizen = make_citizen()

    person = nia.match_person("jana", " NOVÁKOVÁ ", date(1985, 3, 14))

    assert person.bsi == nia_services.bsi(hub, citizen)
    assert (person.first_names, person.last_name) == ("Jana", "Nováková")
    assert person.address.address_point_code == citizen.address_point_code
    assert person.death_date is None
    assert nia.match_person("Jana", "Novakova", date(1985, 3, 14)) is None, "diacritics count"
    assert nia.match_person("Jana", "Novakova", date(1985, 3, 14), comparison="ascii") == person


def test_two_people_of_the_same_data_need_more_to_tell_them_apart(hub):
    make_citizen()
    other = make_citizen(address_point_code=12345678)

    with pytest.raises(SystemRefused) as refused:
        nia.match_person("Jana", "Nováková", date(1985, 3, 14))
    found = nia.match_person("Jana", "Nováková", date(1985, 3, 14), address_point_code=12345678)

    assert refused.value.code == nia.AMBIGUOUS
    assert found.bsi == nia_services.bsi(hub, other)


def test_an_authenticator_is_registered_once_changed_and_ended_for_good(hub):
    make_citizen()
    person = nia.match_person("Jana", "Nováková", date(1985, 3, 14))
    register = {"verified_by_document": True, "document_kind": "ID"}

    nia.register_authenticator(
        person.bsi, "key-1", nia.Level.SUBSTANTIAL, nia.State.ACTIVE, **register
    )
    nia.register_authenticator(
        person.bsi, "key-1", nia.Level.SUBSTANTIAL, nia.State.ACTIVE, **register
    )
    nia.change_authenticator(person.bsi, "key-1", nia.Level.SUBSTANTIAL, nia.State.ENDED, "removed")
    nia.change_authenticator(person.bsi, "key-1", nia.Level.SUBSTANTIAL, nia.State.ENDED)

    [stored] = AuthenticatorRegistration.objects.all()
    assert (stored.identifier, stored.state) == ("key-1", "Ukonceny")
    with pytest.raises(SystemRefused) as refused:
        nia.change_authenticator(person.bsi, "key-1", nia.Level.HIGH, nia.State.ACTIVE)
    assert refused.value.code == "UKONCENY"
    with pytest.raises(SystemRefused) as unknown:
        nia.register_authenticator(
            "00000000-0000-4000-8000-000000000000",
            "key-2",
            nia.Level.HIGH,
            nia.State.ACTIVE,
            verified_by_document=False,
        )
    assert unknown.value.code == "BSI_NEZNAME"


def test_the_feed_brings_register_changes_and_nia_s_own_state_changes(hub):
    citizen = make_citizen()
    person = nia.match_person("Jana", "Nováková", date(1985, 3, 14))
    nia.register_authenticator(
        person.bsi, "klic-1", nia.Level.HIGH, nia.State.ACTIVE, verified_by_document=True
    )
    rob_services.update_citizen(citizen, {"last_name": "Dvořáková"})
    backchannel.change_by_nia(AuthenticatorRegistration.objects.get(), "Neaktivni")

    page = nia.notifications(after=0)
    rest = nia.notifications(after=page.last_id)

    assert [(n.source, n.bsi) for n in page.notifications] == [
        (nia.Source.REGISTER, person.bsi),
        (nia.Source.AUTHENTICATOR, person.bsi),
    ]
    changed = nia.person_data(page.notifications[0].data)
    assert changed["last_name"] == "Dvořáková"
    assert page.notifications[1].data["Stav"] == "Neaktivni"
    assert (rest.notifications, rest.last_id, rest.has_more) == ([], page.last_id, False)


def test_nia_down_is_unavailable(hub, settings):
    settings.GOVSIM_OUTAGES = ["nia"]

    with pytest.raises(SystemUnavailable):
        nia.match_person("Jana", "Nováková", date(1985, 3, 14))
