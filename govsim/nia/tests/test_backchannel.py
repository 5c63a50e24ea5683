"""NIA's back-channel for qualified identity providers: TR_ZTOTOZNENI, TR_EVIDENCE_VIP_ZAPIS,
TR_EVIDENCE_VIP_ZMENA and TR_NOTIFIKACE_IDP, posted as JSON to api/v1/submit/<operation>."""

import datetime
import json
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from govsim.api import key_hash
from govsim.nia import api, backchannel, services
from govsim.nia.idp import service_provider_metadata
from govsim.nia.models import (
    AuthenticatorRegistration,
    ProviderNotification,
    Pseudonym,
    ServiceProvider,
)
from govsim.outage import set_down
from govsim.rob.models import Citizen, DocumentKind, IdDocument
from govsim.rob.services import record_documents_changed, update_citizen
from govsim.tests.people import make_operator, signed_in_as
from govsim.tests.test_boundaries import imported_modules

pytestmark = pytest.mark.django_db

KEY, OTHER_KEY = "test-nia-api-key", "other-nia-api-key"
ADMIN = "/sim/admin/sim_nia/authenticatorregistration/"
GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


def provider(host: str, key: str | None = KEY, *, active: bool = True) -> ServiceProvider:
    entity_id = f"https://{host}/saml/metadata/"
    return ServiceProvider.objects.create(
        entity_id=entity_id,
        name=host,
        metadata_xml=service_provider_metadata(entity_id, f"https://{host}/saml/acs/"),
        api_key_hash=key_hash(key) if key else "",
        active=active,
    )


@pytest.fixture
def portal() -> ServiceProvider:
    return provider("portal.example.test")


@pytest.fixture
def other() -> ServiceProvider:
    return provider("other.example.test", OTHER_KEY)


def url(action: str) -> str:
    return reverse("govsim:nia:api_submit", args=[action])


def submit(client, action: str, body=None, *, key: str | None = KEY):
    """POST the body (a dict as JSON, str/bytes as they are) to the operation."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url(action), data=data, content_type="application/json", **headers)


def answer(client, action: str, body, *, key: str = KEY) -> dict:
    """The 200 answer of an operation (OK or Error)."""
    response = submit(client, action, body, key=key)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.json()


def identification(**fields) -> dict:
    """A TR_ZTOTOZNENI request for the conftest's default citizen."""
    return {"Jmeno": "Jana Marie", "Prijmeni": "Nováková", "DatumNarozeni": "1985-03-14"} | fields


def registration(bsi: str, identifier: str = "klic-1", **fields) -> dict:
    return {
        "Bsi": bsi,
        "IdentifikaceProstredku": identifier,
        "LoA": "High",
        "Stav": "Aktivni",
        "OverenoDoklademTotoznosti": True,
        "PrukazTotoznosti": "ID",
    } | fields


def change(bsi: str, identifier: str = "klic-1", **fields) -> dict:
    return {"Bsi": bsi, "IdentifikaceProstredku": identifier, "LoA": "High", "Stav": "Aktivni"} | (
        fields
    )


def feed(client, after: int = 0, *, key: str = KEY) -> dict:
    return answer(client, "TR_NOTIFIKACE_IDP", {"NotifikaceIdpPosledniId": after}, key=key)


def error(detail: str) -> dict:
    """What an Error answer with this Detail looks like, apart from its message."""
    return {"Status": "Error", "Detail": detail}


def without_message(found: dict) -> dict:
    assert found.get("Message"), "an Error answer carries a human message"
    return {name: value for name, value in found.items() if name != "Message"}


@pytest.fixture
def citizen(make_citizen) -> Citizen:
    return make_citizen(address_point_code=21717441)


@pytest.fixture
def bsi(client, portal, citizen) -> str:
    """The citizen's BSI, given to the portal by TR_ZTOTOZNENI."""
    return answer(client, "TR_ZTOTOZNENI", identification())["Pseudonym"]


def written() -> tuple[int, int, int]:
    return (
        Pseudonym.objects.count(),
        AuthenticatorRegistration.objects.count(),
        ProviderNotification.objects.count(),
    )


# --- BSI and PersonIdentifier ---------------------------------------------------------------


def test_the_bsi_is_a_guid_per_provider_and_the_person_identifier_carries_it(
    portal, other, citizen
):
    portal_bsi, other_bsi = services.bsi(portal, citizen), services.bsi(other, citizen)

    assert portal_bsi != other_bsi
    assert services.bsi(portal, citizen) == portal_bsi, "always the same for one provider"
    assert re.fullmatch(GUID, portal_bsi) and re.fullmatch(GUID, other_bsi)
    assert services.person_identifier(portal, citizen) == "CZ/CZ/" + portal_bsi
    assert services.citizen_of_bsi(portal, portal_bsi) is None, "not given yet"
    assert services.give_pseudonym(portal, citizen) == "CZ/CZ/" + portal_bsi
    assert services.citizen_of_bsi(portal, portal_bsi) == citizen
    assert services.citizen_of_bsi(portal, portal_bsi.upper()) == citizen
    assert services.citizen_of_bsi(other, portal_bsi) is None
    assert services.citizen_of(portal, "CZ/CZ/" + portal_bsi) == citizen


# --- TR_ZTOTOZNENI --------------------------------------------------------------------------


def test_identification_answers_the_register_data_and_the_bsi(client, portal, make_citizen):
    citizen = make_citizen(address_point_code=21717441)
    make_citizen(first_names="Petr", last_name="Novák")  # the same birth date, someone else

    found = answer(client, "TR_ZTOTOZNENI", identification())

    given = services.bsi(portal, citizen)
    assert found == {
        "Status": "OK",
        "Pseudonym": given,
        "Jmeno": "Jana Marie",
        "Prijmeni": "Nováková",
        "DatumNarozeni": "1985-03-14",
        "MistoNarozeni": "Brno",
        "StatniObcanstvi": "CZ",
        "TypPobytu": "citizen",
        "AdresaPobytu": {
            "Kod": 21717441,
            "Ulice": "Květná",
            "CisloDomovni": "1234",
            "CisloOrientacni": "5",
            "CastObce": "Vinohrady",
            "Obec": "Praha",
            "Psc": "12000",
        },
        "DatumUmrti": None,
    }
    pseudonym = Pseudonym.objects.get()
    assert (pseudonym.service_provider, pseudonym.citizen) == (portal, citizen)
    assert pseudonym.value == "CZ/CZ/" + given == services.person_identifier(portal, citizen)
    # Again: the same answer, still one pseudonym.
    assert answer(client, "TR_ZTOTOZNENI", identification()) == found
    assert Pseudonym.objects.count() == 1


def test_identification_of_a_person_without_address_or_birth_place(client, portal, make_citizen):
    make_citizen(
        birth_place="",
        street="",
        house_number="",
        orientation_number="",
        municipality_part="",
        municipality="",
        postal_code="",
        residence_type="none",
        citizenship="SK",
    )

    found = answer(client, "TR_ZTOTOZNENI", identification())

    assert found["Status"] == "OK"
    assert found["AdresaPobytu"] is None and found["MistoNarozeni"] == ""
    assert (found["TypPobytu"], found["StatniObcanstvi"]) == ("none", "SK")


def test_a_deceased_person_is_identified_with_the_date_of_death(client, portal, make_citizen):
    make_citizen(deceased=True, death_date=datetime.date(2024, 12, 1))

    found = answer(client, "TR_ZTOTOZNENI", identification())

    assert found["Status"] == "OK" and found["DatumUmrti"] == "2024-12-01"


def test_nobody_matching_is_nenalezen_and_writes_nothing(client, portal, citizen):
    for body in (
        identification(Prijmeni="Nováčková"),
        identification(DatumNarozeni="1985-03-15"),
        identification(Jmeno="Jana"),  # all the first names, not one of them
        identification(MistoNarozeni="Praha"),
        identification(AdresaPobytu=1),
        identification(Doklad={"Cislo": "000000000", "Druh": "id_card"}),
    ):
        assert without_message(answer(client, "TR_ZTOTOZNENI", body)) == error("NENALEZEN"), body
    assert written() == (0, 0, 0)


def test_several_matching_is_nejednoznacny_until_more_data_tells_them_apart(
    client, portal, make_citizen
):
    first = make_citizen(birth_place="Brno", address_point_code=11)
    second = make_citizen(birth_place="Olomouc", address_point_code=22)

    ambiguous = answer(client, "TR_ZTOTOZNENI", identification())

    assert without_message(ambiguous) == error("NEJEDNOZNACNY")
    assert written() == (0, 0, 0)
    by_place = answer(client, "TR_ZTOTOZNENI", identification(MistoNarozeni="Olomouc"))
    by_address = answer(client, "TR_ZTOTOZNENI", identification(AdresaPobytu=11))
    card = first.documents.get().number
    by_card = answer(
        client,
        "TR_ZTOTOZNENI",
        identification(Doklad={"Cislo": f" {card[:3]} {card[3:]} ", "Druh": "id_card"}),
    )
    assert by_place["Pseudonym"] == services.bsi(portal, second)
    assert by_address["Pseudonym"] == by_card["Pseudonym"] == services.bsi(portal, first)
    # The right number of another kind of document is not the document.
    wrong_kind = identification(Doklad={"Cislo": card, "Druh": "passport"})
    assert answer(client, "TR_ZTOTOZNENI", wrong_kind)["Detail"] == "NENALEZEN"
    # Null optional criteria are no criteria.
    nulls = identification(AdresaPobytu=None, MistoNarozeni=None, Doklad=None)
    assert answer(client, "TR_ZTOTOZNENI", nulls)["Detail"] == "NEJEDNOZNACNY"


def test_a_passport_identifies_too(client, portal, citizen):
    IdDocument.objects.create(citizen=citizen, kind=DocumentKind.PASSPORT, number="P1234567")

    found = answer(
        client,
        "TR_ZTOTOZNENI",
        identification(Doklad={"Cislo": "p1234567", "Druh": "passport"}),
    )

    assert found["Pseudonym"] == services.bsi(portal, citizen)


@pytest.mark.parametrize(
    ("comparison", "first_names", "last_name", "matches"),
    [
        # diakritika (the default): case and the spaces around ignored, diacritics not
        (None, "  jana MARIE ", "NOVÁKOVÁ", True),
        ("diakritika", "Jana Marie", " nováková", True),
        ("diakritika", "Jana Marie", "Novakova", False),
        ("diakritika", "Jana  Marie", "Nováková", False),
        (None, "Jana Marie", "Novakova", False),
        # ascii: case and diacritics ignored
        ("ascii", "jana marie", "NOVAKOVA", True),
        ("ascii", " Jana Marie ", "Nováková", True),
        ("ascii", "Jana Marie", "Novakov", False),
        # striktni: exactly as the register writes it
        ("striktni", "Jana Marie", "Nováková", True),
        ("striktni", "Jana Marie", "nováková", False),
        ("striktni", "Jana Marie", "Nováková ", False),
        ("striktni", "Jana Marie", "Novakova", False),
    ],
)
def test_the_kind_of_comparison(
    client, portal, citizen, comparison, first_names, last_name, matches
):
    body = identification(Jmeno=first_names, Prijmeni=last_name)
    if comparison:
        body["TypPorovnani"] = comparison

    found = answer(client, "TR_ZTOTOZNENI", body)

    assert found["Status"] == ("OK" if matches else "Error"), found
    if not matches:
        assert found["Detail"] == "NENALEZEN"


def test_the_comparison_applies_to_the_birth_place_too(client, portal, make_citizen):
    make_citizen(birth_place="Český Krumlov")

    def status(place: str, comparison: str) -> str:
        body = identification(MistoNarozeni=place, TypPorovnani=comparison)
        return answer(client, "TR_ZTOTOZNENI", body)["Status"]

    assert status("český krumlov", "diakritika") == "OK"
    assert status("Cesky Krumlov", "diakritika") == "Error"
    assert status("CESKY KRUMLOV", "ascii") == "OK"
    assert status("český krumlov", "striktni") == "Error"


def test_two_providers_get_different_bsis_for_one_person(client, portal, other, citizen):
    at_portal = answer(client, "TR_ZTOTOZNENI", identification())["Pseudonym"]
    at_other = answer(client, "TR_ZTOTOZNENI", identification(), key=OTHER_KEY)["Pseudonym"]

    assert at_portal != at_other
    assert at_portal == services.bsi(portal, citizen) and at_other == services.bsi(other, citizen)
    assert {(p.service_provider_id, p.bsi) for p in Pseudonym.objects.all()} == {
        (portal.pk, at_portal),
        (other.pk, at_other),
    }


# --- TR_EVIDENCE_VIP_ZAPIS ------------------------------------------------------------------


def test_a_registration_is_written_once_and_repeating_it_is_ok(client, portal, citizen, bsi):
    first = answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration(bsi))
    again = answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration(bsi))

    assert first == again == {"Status": "OK"}
    row = AuthenticatorRegistration.objects.get()
    assert (row.service_provider, row.citizen, row.bsi, row.identifier) == (
        portal,
        citizen,
        bsi,
        "klic-1",
    )
    assert (row.loa, row.state, row.verified_by_document, row.document_kind) == (
        "High",
        "Aktivni",
        True,
        "ID",
    )
    assert not ProviderNotification.objects.exists(), "the provider's own registration"


def test_a_second_authenticator_of_the_same_person(client, portal, bsi):
    answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration(bsi))
    second = registration(
        bsi, "klic-2", LoA="Substantial", OverenoDoklademTotoznosti=False, PrukazTotoznosti=None
    )
    del second["PrukazTotoznosti"]

    assert answer(client, "TR_EVIDENCE_VIP_ZAPIS", second) == {"Status": "OK"}
    row = AuthenticatorRegistration.objects.get(identifier="klic-2")
    assert (row.loa, row.verified_by_document, row.document_kind) == ("Substantial", False, "")


def test_the_bsi_may_come_in_capitals(client, portal, bsi):
    assert answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration(bsi.upper()))["Status"] == "OK"
    assert answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration(bsi))["Status"] == "OK"
    assert AuthenticatorRegistration.objects.get().bsi == bsi


@pytest.mark.parametrize(
    "different",
    [
        {"LoA": "Substantial"},
        {"Stav": "Neaktivni"},
        {"OverenoDoklademTotoznosti": False},
        {"PrukazTotoznosti": "P"},
    ],
)
def test_the_same_identifier_with_other_data_is_existuje(client, portal, bsi, different):
    answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration(bsi))
    before = AuthenticatorRegistration.objects.values().get()

    found = answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration(bsi, **different))

    assert without_message(found) == error("EXISTUJE")
    assert AuthenticatorRegistration.objects.values().get() == before


def test_a_bsi_not_given_to_the_provider_is_bsi_nezname(client, portal, other, citizen, bsi):
    # The other provider knows the person too, under its own BSI…
    other_bsi = answer(client, "TR_ZTOTOZNENI", identification(), key=OTHER_KEY)["Pseudonym"]

    # …and cannot register under the portal's, nor the portal under the other's.
    under_portals = answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration(bsi), key=OTHER_KEY)
    under_others = answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration(other_bsi))
    never_given = answer(
        client, "TR_EVIDENCE_VIP_ZAPIS", registration("00000000-0000-4000-8000-000000000000")
    )
    not_a_guid = answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration("not-a-bsi"))

    for found in (under_portals, under_others, never_given, not_a_guid):
        assert without_message(found) == error("BSI_NEZNAME")
    assert not AuthenticatorRegistration.objects.exists()
    # The BSI the portal would have, but was never given, is unknown too.
    stranger = Citizen.objects.create(
        first_names="Petr",
        last_name="Svoboda",
        birth_date=datetime.date(1990, 1, 1),
        birth_place="Praha",
        residence_type="citizen",
    )
    not_given = registration(services.bsi(portal, stranger))
    assert answer(client, "TR_EVIDENCE_VIP_ZAPIS", not_given)["Detail"] == "BSI_NEZNAME"


def test_a_deceased_persons_bsi_is_zemrely(client, portal, citizen, bsi):
    update_citizen(citizen, {"deceased": True, "death_date": datetime.date(2025, 1, 2)})

    found = answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration(bsi))

    assert without_message(found) == error("ZEMRELY")
    assert not AuthenticatorRegistration.objects.exists()


# --- TR_EVIDENCE_VIP_ZMENA ------------------------------------------------------------------


def test_the_provider_changes_its_registration_without_a_notification(client, portal, bsi):
    answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration(bsi))

    found = answer(
        client,
        "TR_EVIDENCE_VIP_ZMENA",
        change(bsi, LoA="Substantial", Stav="Neaktivni", Zprava="ztracený klíč"),
    )

    assert found == {"Status": "OK"}
    row = AuthenticatorRegistration.objects.get()
    assert (row.loa, row.state, row.last_message) == ("Substantial", "Neaktivni", "ztracený klíč")
    assert feed(client)["Notifikace"] == [], "the provider knows its own change"
    assert answer(client, "TR_EVIDENCE_VIP_ZMENA", change(bsi))["Status"] == "OK"
    row.refresh_from_db()
    assert (row.loa, row.state, row.last_message) == ("High", "Aktivni", "")


def test_an_unknown_registration_is_nenalezen(client, portal, other, bsi):
    answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration(bsi))

    for found in (
        answer(client, "TR_EVIDENCE_VIP_ZMENA", change(bsi, "klic-2")),
        answer(client, "TR_EVIDENCE_VIP_ZMENA", change("00000000-0000-4000-8000-000000000000")),
        answer(client, "TR_EVIDENCE_VIP_ZMENA", change("x")),
        # Another provider cannot change the portal's registration.
        answer(client, "TR_EVIDENCE_VIP_ZMENA", change(bsi, Stav="Ukonceny"), key=OTHER_KEY),
    ):
        assert without_message(found) == error("NENALEZEN")
    assert AuthenticatorRegistration.objects.get().state == "Aktivni"


def test_an_ended_registration_stays_ended(client, portal, bsi):
    answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration(bsi))
    assert answer(client, "TR_EVIDENCE_VIP_ZMENA", change(bsi, Stav="Ukonceny")) == {"Status": "OK"}
    ended = AuthenticatorRegistration.objects.values().get()

    for state in ("Aktivni", "Neaktivni"):
        found = answer(client, "TR_EVIDENCE_VIP_ZMENA", change(bsi, Stav=state))
        assert without_message(found) == error("UKONCENY")
    again = answer(client, "TR_EVIDENCE_VIP_ZMENA", change(bsi, Stav="Ukonceny", LoA="Low"))

    assert again == {"Status": "OK"}
    assert AuthenticatorRegistration.objects.values().get() == ended
    # Registering it again does not revive it either.
    assert answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration(bsi))["Detail"] == "EXISTUJE"


# --- TR_NOTIFIKACE_IDP ----------------------------------------------------------------------


def test_a_register_change_is_a_robref_for_the_providers_that_know_the_person(
    client, portal, other, make_citizen
):
    citizen = make_citizen(address_point_code=21717441)
    stranger = make_citizen(first_names="Petr", last_name="Svoboda")
    bsi = answer(client, "TR_ZTOTOZNENI", identification())["Pseudonym"]

    update_citizen(citizen, {"street": "Lipová", "address_point_code": 12345678})
    update_citizen(stranger, {"street": "Lipová"})  # nobody was given the stranger's BSI

    page = feed(client)
    assert page["Status"] == "OK" and page["ExistujiDalsiNotifikace"] is False
    (item,) = page["Notifikace"]
    assert item["Bsi"] == bsi and item["Zdroj"] == "ROBREF"
    assert item["ZneplatnenPseudonym"] is False
    assert item["ReferencniData"] == backchannel.reference_data(Citizen.objects.get(pk=citizen.pk))
    assert item["ReferencniData"]["AdresaPobytu"]["Ulice"] == "Lipová"
    assert item["ReferencniData"]["AdresaPobytu"]["Kod"] == 12345678
    assert datetime.datetime.fromisoformat(item["Vytvoreno"]).tzinfo is not None
    assert feed(client, key=OTHER_KEY)["Notifikace"] == [], "the other provider never knew her"
    # What TR_ZTOTOZNENI would answer now is the same data.
    now = answer(client, "TR_ZTOTOZNENI", identification())
    assert {k: v for k, v in now.items() if k not in ("Status", "Pseudonym")} == (
        item["ReferencniData"]
    )


def test_each_provider_that_knows_the_person_gets_its_own_robref(client, portal, other, citizen):
    at_portal = answer(client, "TR_ZTOTOZNENI", identification())["Pseudonym"]
    at_other = answer(client, "TR_ZTOTOZNENI", identification(), key=OTHER_KEY)["Pseudonym"]
    update_citizen(citizen, {"last_name": "Dvořáková"})

    (mine,) = feed(client)["Notifikace"]
    (theirs,) = feed(client, key=OTHER_KEY)["Notifikace"]

    assert (mine["Bsi"], theirs["Bsi"]) == (at_portal, at_other)
    assert (
        mine["ReferencniData"]["Prijmeni"] == theirs["ReferencniData"]["Prijmeni"] == ("Dvořáková")
    )


def test_nothing_changed_is_no_notification_and_a_documents_change_is_one(client, citizen, bsi):
    update_citizen(citizen, {"street": citizen.street})
    assert feed(client)["Notifikace"] == []

    record_documents_changed(citizen)

    (item,) = feed(client)["Notifikace"]
    assert item["Zdroj"] == "ROBREF" and item["Bsi"] == bsi


def test_a_death_is_a_robref_with_the_date_of_death(client, citizen, bsi):
    update_citizen(citizen, {"deceased": True, "death_date": datetime.date(2025, 1, 2)})

    (item,) = feed(client)["Notifikace"]

    assert item["ReferencniData"]["DatumUmrti"] == "2025-01-02"
    assert item["ZneplatnenPseudonym"] is False


def test_a_person_removed_from_the_register_voids_the_pseudonym(client, citizen, bsi):
    citizen.delete()

    (item,) = feed(client)["Notifikace"]

    assert (item["Bsi"], item["Zdroj"], item["ZneplatnenPseudonym"]) == (bsi, "ROBREF", True)
    assert item["ReferencniData"]["Prijmeni"] == "Nováková"


def test_a_person_identified_after_a_change_is_not_told_of_it(client, portal, citizen):
    update_citizen(citizen, {"street": "Lipová"})
    answer(client, "TR_ZTOTOZNENI", identification())

    assert feed(client)["Notifikace"] == []


def test_the_page_and_the_cursor(client, portal, citizen, bsi, monkeypatch):
    monkeypatch.setattr(backchannel, "NOTIFICATIONS_PAGE", 2)
    for street in ("A", "B", "C"):
        update_citizen(citizen, {"street": street})

    first = feed(client)
    assert [item["ReferencniData"]["AdresaPobytu"]["Ulice"] for item in first["Notifikace"]] == [
        "A",
        "B",
    ]
    assert first["ExistujiDalsiNotifikace"] is True
    ids = [item["Id"] for item in first["Notifikace"]]
    assert ids == sorted(ids)
    before = (written(), ProviderNotification.objects.order_by("pk").last().pk)
    assert feed(client) == first, "a page read twice is the same page"
    assert (written(), ProviderNotification.objects.order_by("pk").last().pk) == before
    second = feed(client, ids[-1])
    assert [item["ReferencniData"]["AdresaPobytu"]["Ulice"] for item in second["Notifikace"]] == [
        "C"
    ]
    assert second["ExistujiDalsiNotifikace"] is False
    assert second["Notifikace"][0]["Id"] > ids[-1]
    last = second["Notifikace"][-1]["Id"]
    assert feed(client, last) == {
        "Status": "OK",
        "Notifikace": [],
        "ExistujiDalsiNotifikace": False,
    }
    assert feed(client, 10**15)["Notifikace"] == []


def test_a_page_holds_at_most_100(client, portal, other):
    ProviderNotification.objects.bulk_create(
        ProviderNotification(service_provider=portal, bsi=f"{n}", source="ROBREF")
        for n in range(101)
    )
    ProviderNotification.objects.create(service_provider=other, bsi="theirs", source="ROBREF")

    first = feed(client)
    second = feed(client, first["Notifikace"][-1]["Id"])

    assert len(first["Notifikace"]) == 100 and first["ExistujiDalsiNotifikace"] is True
    assert [item["Bsi"] for item in second["Notifikace"]] == ["100"]
    assert second["ExistujiDalsiNotifikace"] is False


# --- NIA's side: the operator's actions (EVPROST) -------------------------------------------


@pytest.fixture
def operator() -> Client:
    return signed_in_as(Client(HTTP_ACCEPT_LANGUAGE="en"), make_operator())


def act(operator: Client, action: str, *registrations: AuthenticatorRegistration):
    response = operator.post(
        ADMIN, {"action": action, "_selected_action": [r.pk for r in registrations]}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


@pytest.mark.parametrize(
    ("action", "state"), [("suspend", "Neaktivni"), ("end", "Ukonceny"), ("reactivate", "Aktivni")]
)
def test_an_operators_action_is_an_evprost(client, operator, portal, bsi, action, state):
    start = "Neaktivni" if action == "reactivate" else "Aktivni"
    answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration(bsi, Stav=start, LoA="Substantial"))
    row = AuthenticatorRegistration.objects.get()

    act(operator, action, row)

    row.refresh_from_db()
    assert row.state == state
    (item,) = feed(client)["Notifikace"]
    assert (item["Bsi"], item["Zdroj"], item["ZneplatnenPseudonym"]) == (bsi, "EVPROST", False)
    assert item["ReferencniData"] == {
        "IdentifikaceProstredku": "klic-1",
        "LoA": "Substantial",
        "Stav": state,
    }
    # The provider now changes it back itself: no notification of that.
    if state != "Ukonceny":
        answer(client, "TR_EVIDENCE_VIP_ZMENA", change(bsi, Stav=start))
    assert len(feed(client)["Notifikace"]) == 1


def test_an_operator_cannot_revive_an_ended_registration(client, operator, portal, bsi):
    answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration(bsi))
    answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration(bsi, "klic-2"))
    first, second = AuthenticatorRegistration.objects.order_by("identifier")

    act(operator, "end", first)
    act(operator, "end", first)  # ended already: nothing to tell
    act(operator, "suspend", second)
    act(operator, "suspend", second)  # suspended already: nothing to tell
    response = operator.post(
        ADMIN, {"action": "reactivate", "_selected_action": [first.pk]}, follow=True
    )

    first.refresh_from_db()
    assert first.state == "Ukonceny"
    assert "left as it was" in response.content.decode()
    items = feed(client)["Notifikace"]
    assert [
        (i["ReferencniData"]["IdentifikaceProstredku"], i["ReferencniData"]["Stav"]) for i in items
    ] == [
        ("klic-1", "Ukonceny"),
        ("klic-2", "Neaktivni"),
    ]


def test_the_admin_pages_of_a_registration_and_a_notification_open(operator, client, portal, bsi):
    answer(client, "TR_EVIDENCE_VIP_ZAPIS", registration(bsi))
    row = AuthenticatorRegistration.objects.get()
    act(operator, "suspend", row)
    notification = ProviderNotification.objects.get()

    assert operator.get(ADMIN).status_code == 200
    assert operator.get(f"{ADMIN}{row.pk}/change/").status_code == 200
    assert operator.get(f"{ADMIN}?state=Neaktivni").status_code == 200
    assert operator.get(f"{ADMIN}add/").status_code == 403
    notifications = "/sim/admin/sim_nia/providernotification/"
    assert operator.get(notifications).status_code == 200
    assert operator.get(f"{notifications}{notification.pk}/change/").status_code == 200
    # A registration's own page shows it; only the list's actions change it.
    posted = operator.post(f"{ADMIN}{row.pk}/change/", {"state": "Aktivni"})
    row.refresh_from_db()
    assert posted.status_code == 403 and row.state == "Neaktivni"


# --- What is not an operation's business: 4xx and 503 ---------------------------------------

BAD_REQUESTS = [
    ("TR_ZTOTOZNENI", "[]"),
    ("TR_ZTOTOZNENI", '"Jana"'),
    ("TR_ZTOTOZNENI", "null"),
    ("TR_ZTOTOZNENI", "not json"),
    ("TR_ZTOTOZNENI", b"\xff\xfe"),
    ("TR_ZTOTOZNENI", ""),
    ("TR_ZTOTOZNENI", identification(Jmeno=5)),
    ("TR_ZTOTOZNENI", identification(Jmeno="")),
    ("TR_ZTOTOZNENI", identification(Jmeno="x" * 201)),
    ("TR_ZTOTOZNENI", identification(Jmeno="Ja\x00na")),
    ("TR_ZTOTOZNENI", identification(Jmeno="\ud800")),
    ("TR_ZTOTOZNENI", identification(Prijmeni=None)),
    ("TR_ZTOTOZNENI", {"Jmeno": "Jana Marie", "DatumNarozeni": "1985-03-14"}),
    ("TR_ZTOTOZNENI", identification(DatumNarozeni="1985-02-30")),
    ("TR_ZTOTOZNENI", identification(DatumNarozeni="14.03.1985")),
    ("TR_ZTOTOZNENI", identification(DatumNarozeni="1985-3-14")),
    ("TR_ZTOTOZNENI", identification(DatumNarozeni="1985-03-14T00:00")),
    ("TR_ZTOTOZNENI", identification(DatumNarozeni="١٩٨٥-٠٣-١٤")),
    ("TR_ZTOTOZNENI", identification(DatumNarozeni=19850314)),
    ("TR_ZTOTOZNENI", identification(AdresaPobytu="21717441")),
    ("TR_ZTOTOZNENI", identification(AdresaPobytu=True)),
    ("TR_ZTOTOZNENI", identification(AdresaPobytu=1.5)),
    ("TR_ZTOTOZNENI", identification(AdresaPobytu=-1)),
    ("TR_ZTOTOZNENI", identification(AdresaPobytu=2**70)),
    ("TR_ZTOTOZNENI", identification(MistoNarozeni=[])),
    ("TR_ZTOTOZNENI", identification(Doklad="AB123456")),
    ("TR_ZTOTOZNENI", identification(Doklad={"Cislo": "1"})),
    ("TR_ZTOTOZNENI", identification(Doklad={"Cislo": 1, "Druh": "id_card"})),
    ("TR_ZTOTOZNENI", identification(Doklad={"Cislo": "1", "Druh": "ridicsky_prukaz"})),
    ("TR_ZTOTOZNENI", identification(Doklad={"Cislo": "1", "Druh": "id_card", "Platnost": 1})),
    ("TR_ZTOTOZNENI", identification(TypPorovnani="exact")),
    ("TR_ZTOTOZNENI", identification(TypPorovnani=True)),
    ("TR_ZTOTOZNENI", identification(Pohlavi="Z")),  # an unknown criterion is not ignored
    ("TR_EVIDENCE_VIP_ZAPIS", registration("b", OverenoDoklademTotoznosti="false")),
    ("TR_EVIDENCE_VIP_ZAPIS", registration("b", OverenoDoklademTotoznosti=0)),
    ("TR_EVIDENCE_VIP_ZAPIS", registration("b", OverenoDoklademTotoznosti=None)),
    ("TR_EVIDENCE_VIP_ZAPIS", registration("b", LoA="high")),
    ("TR_EVIDENCE_VIP_ZAPIS", registration("b", LoA=3)),
    ("TR_EVIDENCE_VIP_ZAPIS", registration("b", Stav="Active")),
    ("TR_EVIDENCE_VIP_ZAPIS", registration("b", IdentifikaceProstredku="")),
    ("TR_EVIDENCE_VIP_ZAPIS", registration("b", IdentifikaceProstredku="k" * 256)),
    ("TR_EVIDENCE_VIP_ZAPIS", registration("b", IdentifikaceProstredku=["klic-1"])),
    ("TR_EVIDENCE_VIP_ZAPIS", registration("b", PrukazTotoznosti=5)),
    ("TR_EVIDENCE_VIP_ZAPIS", registration(None)),
    ("TR_EVIDENCE_VIP_ZAPIS", registration({"Bsi": "b"})),
    ("TR_EVIDENCE_VIP_ZAPIS", registration("b" * 65)),
    ("TR_EVIDENCE_VIP_ZAPIS", registration("b", Zprava="hi")),
    ("TR_EVIDENCE_VIP_ZMENA", change("b", Zprava="z" * 256)),
    ("TR_EVIDENCE_VIP_ZMENA", change("b", Zprava=5)),
    ("TR_EVIDENCE_VIP_ZMENA", change("b", Stav=None)),
    ("TR_EVIDENCE_VIP_ZMENA", {"Bsi": "b", "IdentifikaceProstredku": "k", "Stav": "Aktivni"}),
    ("TR_NOTIFIKACE_IDP", {"NotifikaceIdpPosledniId": True}),
    ("TR_NOTIFIKACE_IDP", {"NotifikaceIdpPosledniId": False}),
    ("TR_NOTIFIKACE_IDP", {"NotifikaceIdpPosledniId": "0"}),
    ("TR_NOTIFIKACE_IDP", {"NotifikaceIdpPosledniId": 1.0}),
    ("TR_NOTIFIKACE_IDP", {"NotifikaceIdpPosledniId": -1}),
    ("TR_NOTIFIKACE_IDP", {"NotifikaceIdpPosledniId": 2**63}),
    ("TR_NOTIFIKACE_IDP", {"NotifikaceIdpPosledniId": None}),
    ("TR_NOTIFIKACE_IDP", {}),
    ("TR_NOTIFIKACE_IDP", {"NotifikaceIdpPosledniId": 0, "Limit": 5}),
    ("TR_NOTIFIKACE_IDP", '{"NotifikaceIdpPosledniId": 1e400}'),
    ("TR_NOTIFIKACE_IDP", '{"NotifikaceIdpPosledniId": NaN}'),
]


@pytest.mark.parametrize(("action", "body"), BAD_REQUESTS)
def test_a_body_the_operation_cannot_read_is_400(client, portal, citizen, action, body):
    services.give_pseudonym(portal, citizen)
    before = written()

    response = submit(client, action, body)

    assert response.status_code == 400, response.content.decode()[:500]
    assert response.json()["error"] == "bad_request" and response.json()["message"]
    assert written() == before


def test_a_request_that_names_the_right_bsi_but_a_wrong_type_is_400(client, portal, bsi):
    response = submit(
        client, "TR_EVIDENCE_VIP_ZAPIS", registration(bsi, OverenoDoklademTotoznosti="false")
    )

    assert response.status_code == 400
    assert not AuthenticatorRegistration.objects.exists()


def test_an_unknown_or_missing_key_is_401(client, portal, citizen):
    provider("retired.example.test", "retired-key", active=False)

    for key in (None, "wrong-key", "retired-key"):
        response = submit(client, "TR_ZTOTOZNENI", identification(), key=key)
        assert response.status_code == 401, key
        assert response.json()["error"] == "unauthorized"
    basic = client.post(
        url("TR_NOTIFIKACE_IDP"),
        data='{"NotifikaceIdpPosledniId": 0}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {KEY}",
    )
    assert basic.status_code == 401
    assert not Pseudonym.objects.exists()


def test_an_unknown_operation_is_404_json(client, portal):
    for action in ("TR_NEZNAMA", "tr_ztotozneni", "TR_ZTOTOZNENI_"):
        response = submit(client, action, {})
        assert response.status_code == 404, action
        assert response.json()["error"] == "not_found" and response.json()["message"]
    other_address = client.post(
        "/sim/nia/api/v1/submit/TR_ZTOTOZNENI/more", "{}", "application/json"
    )
    assert other_address.status_code == 404 and other_address.json()["error"] == "not_found"


def test_other_methods_are_405(client, portal):
    for method in ("get", "put", "delete"):
        response = getattr(client, method)(
            url("TR_NOTIFIKACE_IDP"), HTTP_AUTHORIZATION=f"Bearer {KEY}"
        )
        assert response.status_code == 405, method
        assert response["Allow"] == "POST"
        assert response.json()["error"] == "method_not_allowed"


def test_every_operation_answers_503_json_while_nia_is_down(client, portal):
    set_down("nia", True)

    for action in [*backchannel.OPERATIONS, "TR_NEZNAMA"]:
        response = submit(client, action, {"NotifikaceIdpPosledniId": 0})
        assert response.status_code == 503, action
        assert response.json()["error"] == "unavailable"
        assert response["Retry-After"]


def test_a_body_over_the_limit_is_413(client, portal, citizen):
    body = json.dumps(identification(Jmeno="Jana Marie", Padding="x" * api.MAX_BODY_BYTES))

    response = submit(client, "TR_ZTOTOZNENI", body)

    assert response.status_code == 413 and response.json()["error"] == "too_large"
    assert not Pseudonym.objects.exists()


# --- Drawn bodies: a 200 or a 400, never anything else --------------------------------------

FIELD_NAMES = [
    "Jmeno",
    "Prijmeni",
    "DatumNarozeni",
    "AdresaPobytu",
    "MistoNarozeni",
    "Doklad",
    "TypPorovnani",
    "Bsi",
    "IdentifikaceProstredku",
    "LoA",
    "Stav",
    "OverenoDoklademTotoznosti",
    "PrukazTotoznosti",
    "Zprava",
    "NotifikaceIdpPosledniId",
    "Cislo",
    "Druh",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(["1985-03-14", "Aktivni", "High", "id_card", "ascii", "\x00", "\ud800"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELD_NAMES), inner, max_size=4)
    ),
    max_leaves=10,
)


@hypothesis_settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    action=st.sampled_from(list(backchannel.OPERATIONS)),
    body=st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=7) | json_values,
)
def test_drawn_bodies_get_an_answer_or_a_400(client, portal, citizen, action, body):
    response = submit(client, action, body)

    assert response.status_code in (200, 400), response.content.decode()[:500]
    if response.status_code == 200:
        assert response.json()["Status"] in ("OK", "Error")


def test_the_register_knows_nothing_of_nia():
    """NIA hears of the register's changes through a receiver of its own; govsim.rob imports no
    module of govsim.nia."""
    rob = Path(__file__).resolve().parents[2] / "rob"
    found = {
        str(path.relative_to(rob)): sorted(
            name for name in imported_modules(path) if name.startswith("govsim.nia")
        )
        for path in rob.rglob("*.py")
        if "tests" not in path.relative_to(rob).parts
    }

    assert len(found) > 5, "the walk finds the register's modules"
    assert {path: names for path, names in found.items() if names} == {}
