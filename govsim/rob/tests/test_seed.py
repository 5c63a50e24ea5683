"""The register's demo data: loaded twice it is the same, and it is what the README promises."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password

from govsim.exceptions import MissingPortalKey
from govsim.rob import seed as seed_module
from govsim.rob.models import Citizen, CitizenChange, IdDocument, Recipient

from .factories import file

pytestmark = pytest.mark.django_db


def seed() -> dict:
    """What `seed_govsim` loads into the register with the demo world."""
    return {**seed_module.seed_portal(), **seed_module.seed_demo()}


def snapshot() -> dict:
    return {
        "citizens": sorted(Citizen.objects.values_list("identifier", "last_name", "street")),
        "documents": sorted(
            IdDocument.objects.values_list("kind", "number", "citizen__identifier", "card_pin")
        ),
        "recipients": list(Recipient.objects.values_list("code", "api_key_hash")),
        "users": get_user_model().objects.count(),
        "changes": CitizenChange.objects.count(),
    }


def test_seed_twice_gives_the_same_counts_and_rows():
    first = seed()
    rows = snapshot()

    second = seed()

    assert first == second
    assert snapshot() == rows  # same identifiers, same PIN hashes: nothing rewritten
    assert first == {
        "recipient": "mojeid",
        "key": "DEVELOPMENT key dev-rob-key-mojeid",
        "citizens": Citizen.objects.count(),
        "documents": IdDocument.objects.count(),
    }
    assert rows["changes"] == 0
    assert rows["users"] == 0  # the register's seed makes no portal account


def test_seed_puts_back_an_edited_citizen_through_the_change_feed(clerk):
    seed()
    jana = Citizen.objects.get(identifier=seed_module.citizen_identifier("jana-novakova"))
    file(jana, Recipient.objects.get(code="mojeid"), clerk)
    Citizen.objects.filter(pk=jana.pk).update(street="Jinde")

    seed()

    jana.refresh_from_db()
    assert jana.street == "Vinohradská"
    assert CitizenChange.objects.get(citizen=jana).fields == ["street"]


def test_the_people_the_demo_needs_are_there():
    seed()
    people = {(c.first_names, c.last_name): c for c in Citizen.objects.all()}

    for name in [
        ("Jana", "Nováková"),
        ("Petr", "Dvořák"),
        ("Karel", "Černý"),
        ("Zdeňka", "Řeháková"),
        ("Jiří", "Šťastný"),
    ]:
        assert name in people
        assert people[name].address_point_code
    foreigner = people[("Ólafur", "Jóhannsson")]
    assert foreigner.citizenship == "IS"
    assert foreigner.residence_type == "foreigner_temporary"
    assert foreigner.documents.filter(kind="residence_certificate").exists()
    assert people[("Jiří", "Šťastný")].data_box_id == "pfo1234"
    assert Citizen.objects.filter(deceased=True, death_date__isnull=False).exists()
    fo_boxes = [c.data_box_id for c in people.values() if c.data_box_id.startswith("fo")]
    assert len(fo_boxes) >= 2
    assert all(len(box) == 7 and box.isalnum() and box == box.lower() for box in fo_boxes)


def test_cards_activated_and_not_all_with_the_demo_pin():
    seed()
    cards = IdDocument.objects.filter(kind="id_card")

    assert {card.nia_activated for card in cards} == {True, False}
    for card in cards:
        assert card.card_pin.startswith(("argon2", "pbkdf2"))
        assert check_password(seed_module.DEMO_CARD_PIN, card.card_pin)
    assert seed_module.DEMO_CARD_PIN == "123456"


def test_the_recipient_uses_the_development_key_by_default(client, settings):
    if hasattr(settings, "GOVSIM_ROB_API_KEY"):
        del settings.GOVSIM_ROB_API_KEY
    seed()

    response = client.get(
        "/sim/rob/api/v1/provisions", headers={"Authorization": "Bearer dev-rob-key-mojeid"}
    )

    assert response.status_code == 200
    assert Recipient.objects.get().name == "MojeID"


def test_the_recipient_uses_the_configured_key(client, settings):
    settings.GOVSIM_ROB_API_KEY = "configured-key-0123456789"
    seed()

    def status(key: str) -> int:
        headers = {"Authorization": f"Bearer {key}"}
        return client.get("/sim/rob/api/v1/provisions", headers=headers).status_code

    assert status("configured-key-0123456789") == 200
    assert status("dev-rob-key-mojeid") == 401


def test_without_the_demo_only_the_portals_recipient_is_made():
    seed_module.seed_portal()

    assert list(Recipient.objects.values_list("code", flat=True)) == ["mojeid"]
    assert not Citizen.objects.exists()


def test_under_production_settings_the_development_key_is_refused(settings):
    settings.PRODUCTION = True
    settings.GOVSIM_ROB_API_KEY = ""

    with pytest.raises(MissingPortalKey) as refused:
        seed_module.seed_portal()

    assert refused.value.setting == "GOVSIM_ROB_API_KEY"
    assert not Recipient.objects.exists()
