"""The register in the simulator's admin: a citizen's edit reaches the change feed, a new
recipient's key is shown once, provisions and changes are read-only."""

import re
from datetime import date

import pytest
from django.contrib.auth.hashers import check_password

from govsim.rob.models import Citizen, CitizenChange, DataProvisionRequest, Recipient
from govsim.rob.services import TRACKED_FIELDS

from .factories import file, make_citizen, make_document

pytestmark = pytest.mark.django_db


def change_form(citizen: Citizen, **overrides) -> dict:
    """The POST of the citizen's change page as the browser sends it, with `overrides`."""
    data = {}
    for name in TRACKED_FIELDS:
        value = getattr(citizen, name)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        elif isinstance(value, date):
            data[name] = value.isoformat()
        else:
            data[name] = str(value)
    documents = list(citizen.documents.order_by("pk")) if citizen.pk else []
    data.update(
        {
            "documents-TOTAL_FORMS": str(len(documents)),
            "documents-INITIAL_FORMS": str(len(documents)),
            "documents-MIN_NUM_FORMS": "0",
            "documents-MAX_NUM_FORMS": "1000",
        }
    )
    for index, document in enumerate(documents):
        prefix = f"documents-{index}-"
        data[prefix + "id"] = str(document.pk)
        data[prefix + "citizen"] = str(citizen.pk)
        data[prefix + "kind"] = document.kind
        data[prefix + "number"] = document.number
        data[prefix + "valid_until"] = document.valid_until.isoformat()
        if document.nia_activated:
            data[prefix + "nia_activated"] = "on"
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def save(admin_client, citizen: Citizen, **overrides):
    url = f"/sim/admin/sim_rob/citizen/{citizen.pk}/change/"
    response = admin_client.post(url, change_form(citizen, **overrides))
    assert response.status_code == 302, response.content.decode()[:3000]
    return response


def test_the_change_page_opens(admin_client):
    citizen = make_citizen()
    make_document(citizen)

    response = admin_client.get(f"/sim/admin/sim_rob/citizen/{citizen.pk}/change/")

    assert response.status_code == 200
    assert "Nováková" in response.content.decode()


def test_an_edit_records_the_changed_fields(admin_client):
    citizen = make_citizen()

    save(admin_client, citizen, street="Korunní", house_number="810", orientation_number="104")

    citizen.refresh_from_db()
    assert citizen.street == "Korunní"
    (change,) = CitizenChange.objects.filter(citizen=citizen)
    assert change.fields == ["street", "house_number", "orientation_number"]


def test_saving_without_a_change_records_nothing(admin_client):
    citizen = make_citizen()
    make_document(citizen)

    save(admin_client, citizen)

    assert not CitizenChange.objects.exists()


def test_a_document_edit_is_one_change_with_the_fields(admin_client):
    citizen = make_citizen()
    make_document(citizen, nia_activated=False)

    save(admin_client, citizen, last_name="Dvořáková", **{"documents-0-nia_activated": "on"})

    (change,) = CitizenChange.objects.filter(citizen=citizen)
    assert change.fields == ["last_name", "documents"]
    assert citizen.documents.get().nia_activated is True


def test_a_document_alone_is_a_change_of_documents(admin_client):
    citizen = make_citizen()
    make_document(citizen, number="111111111")

    save(admin_client, citizen, **{"documents-0-number": "222222222"})

    assert [change.fields for change in CitizenChange.objects.all()] == [["documents"]]


def test_a_new_card_pin_is_stored_hashed(admin_client):
    citizen = make_citizen()
    card = make_document(citizen)

    save(admin_client, citizen, **{"documents-0-new_card_pin": "654321"})

    card.refresh_from_db()
    assert card.card_pin != "654321"
    assert check_password("654321", card.card_pin)
    assert [change.fields for change in CitizenChange.objects.all()] == [["documents"]]


def test_a_malformed_card_pin_is_refused(admin_client):
    citizen = make_citizen()
    make_document(citizen)
    url = f"/sim/admin/sim_rob/citizen/{citizen.pk}/change/"

    response = admin_client.post(url, change_form(citizen, **{"documents-0-new_card_pin": "12a"}))

    assert response.status_code == 200
    assert not CitizenChange.objects.exists()


def test_an_admin_edit_reaches_the_recipients_change_feed(admin_client, api, recipient, clerk):
    citizen = make_citizen()
    file(citizen, recipient, clerk)

    save(admin_client, citizen, deceased="on", death_date="2026-01-02")

    items = api("changes").json()["items"]
    assert [(item["citizen"], item["fields"]) for item in items] == [
        (str(citizen.identifier), ["deceased", "death_date"])
    ]
    assert api(f"citizens/{citizen.identifier}").json()["death_date"] == "2026-01-02"


def test_a_date_of_death_needs_deceased(admin_client):
    citizen = make_citizen()
    url = f"/sim/admin/sim_rob/citizen/{citizen.pk}/change/"

    response = admin_client.post(url, change_form(citizen, death_date="2026-01-02"))

    assert response.status_code == 200
    citizen.refresh_from_db()
    assert citizen.death_date is None


def test_a_new_citizen_records_no_change(admin_client):
    citizen = Citizen(
        first_names="Nový",
        last_name="Občan",
        birth_date=date(2000, 1, 1),
        birth_place="Kolín",
        residence_type="citizen",
    )
    data = change_form(citizen)

    response = admin_client.post("/sim/admin/sim_rob/citizen/add/", data)

    assert response.status_code == 302
    assert Citizen.objects.filter(last_name="Občan").exists()
    assert not CitizenChange.objects.exists()


def test_a_new_recipient_shows_its_key_once_and_the_key_works(admin_client, api):
    response = admin_client.post(
        "/sim/admin/sim_rob/recipient/add/", {"name": "Jiný portál", "code": "jiny"}, follow=True
    )

    text = response.content.decode()
    key = re.search(r"is ([A-Za-z0-9_-]{40,}) ", text).group(1)
    assert api("provisions", key=key).status_code == 200
    recipient = Recipient.objects.get(code="jiny")
    assert key not in recipient.api_key_hash
    # Not shown again: neither on its page nor in the list.
    assert (
        key
        not in admin_client.get(
            f"/sim/admin/sim_rob/recipient/{recipient.pk}/change/"
        ).content.decode()
    )
    assert key not in admin_client.get("/sim/admin/sim_rob/recipient/").content.decode()


def test_editing_a_recipient_keeps_its_key(admin_client, api, recipient):
    admin_client.post(
        f"/sim/admin/sim_rob/recipient/{recipient.pk}/change/", {"name": "MojeID", "code": "mojeid"}
    )

    assert api("provisions").status_code == 200


def test_a_new_key_replaces_the_old_one(admin_client, api, recipient):
    response = admin_client.post(
        "/sim/admin/sim_rob/recipient/",
        {"action": "issue_new_key", "_selected_action": [recipient.pk]},
        follow=True,
    )

    key = re.search(r"is ([A-Za-z0-9_-]{40,}) ", response.content.decode()).group(1)
    assert api("provisions").status_code == 401
    assert api("provisions", key=key).status_code == 200


def test_provisions_are_read_only(admin_client, recipient, clerk):
    provision = file(make_citizen(), recipient, clerk)
    base = "/sim/admin/sim_rob/dataprovisionrequest/"

    assert admin_client.get(base).status_code == 200
    assert admin_client.get(f"{base}{provision.pk}/change/").status_code == 200
    assert admin_client.get(f"{base}add/").status_code == 403
    assert admin_client.post(f"{base}{provision.pk}/delete/", {"post": "yes"}).status_code == 403
    admin_client.post(f"{base}{provision.pk}/change/", {"request_code": "CHANGED"})
    provision.refresh_from_db()
    assert provision.request_code != "CHANGED"
    assert DataProvisionRequest.objects.count() == 1


def test_the_admin_is_not_open_to_anonymous_visitors(client):
    response = client.get("/sim/admin/sim_rob/citizen/")

    assert response.status_code == 302
    assert "/login/" in response["Location"]
