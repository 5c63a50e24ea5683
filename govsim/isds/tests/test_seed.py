"""The demo data loads idempotently, tolerates citizens missing from the register, and gives the
portal's box the configured (or the development) API key."""

import datetime

import pytest
from django.forms.models import model_to_dict

from govsim.api import key_hash
from govsim.isds import seed as isds_seed
from govsim.isds.models import BoxAccess, DataBox, Person
from govsim.isds.seed import DEMO_PASSWORD, DEV_API_KEY, ascii_lower, find_citizen
from govsim.rob.models import Citizen

from .conftest import make_citizen as citizen
from .conftest import read_feed, sign_in

pytestmark = pytest.mark.django_db


def seed() -> dict:
    """What `seed_govsim` loads into the data box system with the demo world."""
    return {**isds_seed.seed_portal(), **isds_seed.seed_demo()}


@pytest.fixture
def register(db):
    """The citizens the ROB seed provides."""
    return {
        "jana": citizen("Jana", "Nováková", datetime.date(1985, 3, 14)),
        "petr": citizen("Petr", "Dvořák", datetime.date(1990, 7, 22)),
        "karel": citizen("Karel", "Černý", datetime.date(1972, 11, 2)),
        "zdenka": citizen("Zdeňka", "Řeháková", datetime.date(1958, 1, 30)),
        "jiri": citizen("Jiří", "Šťastný", datetime.date(1979, 9, 9)),
    }


def snapshot() -> list:
    return [
        [model_to_dict(row) | {"pk": row.pk} for row in model.objects.order_by("pk")]
        for model in (DataBox, Person, BoxAccess, Citizen)
    ]


def test_seeding_twice_changes_nothing(register):
    first = seed()
    before = snapshot()

    second = seed()

    assert second == first
    assert snapshot() == before
    assert first["skipped"] == []
    assert first["boxes"] == DataBox.objects.count() == 8
    assert set(DataBox.objects.values_list("box_type", flat=True)) == {"FO", "PFO", "PO", "OVM"}


def test_the_portals_box_has_the_development_key_unless_one_is_set(client, register, settings):
    seed()
    assert DataBox.objects.get(box_id="mojeid1").name == "CZ.NIC, z. s. p. o."
    assert read_feed(client, key=DEV_API_KEY).status_code == 200

    settings.GOVSIM_ISDS_API_KEY = "configured-key"
    seed()

    assert DataBox.objects.get(box_id="mojeid1").api_key_hash == key_hash("configured-key")
    assert read_feed(client, key=DEV_API_KEY).status_code == 401


def test_the_demo_persons_sign_in_with_the_documented_password(client, register):
    seed()

    assert sign_in(client, "jana", DEMO_PASSWORD).status_code == 302
    jana = Person.objects.get(username="jana")
    assert jana.citizen == register["jana"]
    assert set(jana.access.values_list("box__box_id", "role")) == {
        ("jnovak1", "owner"),
        ("peknov1", "authorised"),
    }
    assert set(Person.objects.values_list("username", flat=True)) == {
        "jana",
        "petr",
        "karel",
        "zdenka",
        "jiri",
        "hana",
        "tomas",
    }
    assert not Person.objects.filter(password=DEMO_PASSWORD).exists()  # only hashes


def test_a_citizen_missing_from_the_register_skips_that_box_and_says_so(db):
    citizen("Jana", "Nováková", datetime.date(1985, 3, 14))
    citizen("Petr", "Dvořák", datetime.date(1990, 7, 22))  # but no Zdeňka Řeháková

    result = seed()

    assert not DataBox.objects.filter(box_id="zrehak1").exists()
    assert any("zrehak1" in line and "Řeháková" in line for line in result["skipped"])
    assert DataBox.objects.filter(box_id="jnovak1").exists()


def test_an_empty_register_still_seeds_the_organisations_boxes(db):
    result = seed()

    assert set(DataBox.objects.values_list("box_id", flat=True)) == {"mojeid1", "ovmdemo"}
    assert len(result["skipped"]) == 6


def test_a_natural_persons_box_takes_the_id_the_register_keeps(register):
    Citizen.objects.filter(pk=register["jana"].pk).update(data_box_id="fo12345")
    Citizen.objects.filter(pk=register["jiri"].pk).update(data_box_id="pfo1234")

    seed()

    assert DataBox.objects.get(box_id="fo12345").name == "Jana Nováková"
    assert DataBox.objects.get(box_id="pfo1234").box_type == "PFO"
    assert not DataBox.objects.filter(box_id__in=["jnovak1", "jstast1"]).exists()
    # A citizen without a box ID in the register gets the seed's, and the register is not
    # written to (it records its own changes).
    assert DataBox.objects.filter(box_id="pdvora1").exists()
    register["petr"].refresh_from_db()
    assert register["petr"].data_box_id == ""


def test_with_the_real_register_seed_the_boxes_match_the_register(client):
    rob_seed = pytest.importorskip("govsim.rob.seed")
    rob_seed.seed_demo()

    result = seed()

    assert result["skipped"] == []
    jana = find_citizen("Nováková", "Jana", datetime.date(1985, 3, 14))
    assert jana is not None
    (box,) = DataBox.objects.filter(access__person__citizen=jana, box_type="FO")
    assert box.box_id == jana.data_box_id or not jana.data_box_id
    assert seed() == result
    assert sign_in(client, "jana", DEMO_PASSWORD).status_code == 302


def test_find_citizen_tolerates_a_second_first_name_and_refuses_ambiguity(db):
    jana = citizen("Jana Marie", "Nováková", datetime.date(1985, 3, 14))
    assert find_citizen("Nováková", "Jana") == jana

    citizen("Jana", "Nováková", datetime.date(1990, 1, 1))
    citizen("Jana", "Nováková", datetime.date(1991, 1, 1))
    assert find_citizen("Nováková", "Jana") is None
    assert find_citizen("Nováková", "Jana", datetime.date(1985, 3, 14)) == jana


def test_usernames_have_no_diacritics():
    assert ascii_lower("Zdeňka") == "zdenka"
    assert ascii_lower("Tomáš") == "tomas"


def test_without_the_demo_only_the_portals_box_is_made(client, register):
    isds_seed.seed_portal()

    assert list(DataBox.objects.values_list("box_id", flat=True)) == ["mojeid1"]
    assert not Person.objects.exists()
    assert read_feed(client, key=DEV_API_KEY).status_code == 200


def test_the_demo_keeps_the_portals_key(client, register, settings):
    settings.GOVSIM_ISDS_API_KEY = "configured-key"
    isds_seed.seed_portal()

    isds_seed.seed_demo()

    assert read_feed(client, key="configured-key").status_code == 200
    assert DataBox.objects.get(box_id="mojeid1").access.get().person.username == "hana"
