"""The register's JSON API for recipients: key, feeds with cursors, citizen data, errors."""

from datetime import date

import pytest

from czechpoint import request_code
from govsim.outage import set_down
from govsim.rob import services

from .factories import API_KEY, OTHER_KEY, file, make_citizen, make_document, make_recipient

pytestmark = pytest.mark.django_db


def assert_json_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == code


# --- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["provisions", "changes", "citizens/" + "0" * 32])
def test_every_endpoint_needs_the_key(api, recipient, path):
    assert_json_error(api(path, key=None), 401, "unauthorized")


@pytest.mark.parametrize("path", ["provisions", "changes", "citizens/" + "0" * 32])
def test_a_wrong_key_is_refused(api, recipient, path):
    assert_json_error(api(path, key="not-the-key"), 401, "unauthorized")


def test_another_scheme_than_bearer_is_refused(client, recipient):
    response = client.get("/sim/rob/api/v1/provisions", headers={"Authorization": API_KEY})

    assert_json_error(response, 401, "unauthorized")


def test_only_a_hash_of_the_key_is_stored(recipient):
    assert API_KEY not in recipient.api_key_hash
    assert len(recipient.api_key_hash) == 64


# --- provisions feed --------------------------------------------------------------------------


def test_the_feed_lists_the_recipients_provisions_with_their_data(api, recipient, clerk):
    citizen = make_citizen()
    card = make_document(citizen, "id_card", "203495821")
    code = request_code.generate()
    provision = file(citizen, recipient, clerk, code=code, document=card)

    body = api("provisions").json()

    assert body["has_more"] is False
    assert body["cursor"] == provision.pk
    assert body["items"] == [
        {
            "id": provision.pk,
            "request_code": code,
            "citizen": str(citizen.identifier),
            "filed_at": provision.created_at.isoformat(),
            "office": "Czech POINT – test",
            "clerk": "Marie Úřednická",
            "document": {"kind": "id_card", "number": "203495821"},
            "stated": None,
        }
    ]


def test_a_foreigners_stated_names_are_in_the_feed_as_typed(api, recipient, clerk):
    citizen = make_citizen(first_names="Ólafur", last_name="Jóhannsson", citizenship="IS")
    certificate = make_document(citizen, "residence_certificate", "PP0123456")
    file(
        citizen,
        recipient,
        clerk,
        document=certificate,
        stated_first_names="Ólafur",
        stated_last_name="Jóhannsson",
        stated_birth_date=date(1988, 6, 17),
    )

    (item,) = api("provisions").json()["items"]

    assert item["document"] == {"kind": "residence_certificate", "number": "PP0123456"}
    assert item["stated"] == {
        "first_names": "Ólafur",
        "last_name": "Jóhannsson",
        "birth_date": "1988-06-17",
    }


def test_a_provision_without_a_document_has_null(api, recipient, clerk):
    file(make_citizen(), recipient, clerk)

    assert api("provisions").json()["items"][0]["document"] is None


def test_a_recipient_sees_only_its_own_provisions(api, recipient, clerk):
    other = make_recipient("other", OTHER_KEY, "Other")
    mine = file(make_citizen(), recipient, clerk)
    file(make_citizen(last_name="Jiná"), other, clerk)

    assert [item["id"] for item in api("provisions").json()["items"]] == [mine.pk]
    assert [item["id"] for item in api("provisions", key=OTHER_KEY).json()["items"]] != [mine.pk]


def test_the_feed_pages_after_the_cursor_and_replays(api, recipient, clerk):
    citizen = make_citizen()
    filed = [file(citizen, recipient, clerk).pk for _ in range(5)]

    first = api("provisions", limit=2).json()
    again = api("provisions", limit=2).json()
    second = api("provisions", after=first["cursor"], limit=2).json()
    second_again = api("provisions", after=first["cursor"], limit=2).json()
    last = api("provisions", after=second["cursor"], limit=2).json()
    beyond = api("provisions", after=last["cursor"]).json()

    assert first == again  # reading the same page twice gives the same page
    assert second == second_again
    assert [item["id"] for item in first["items"]] == filed[:2]
    assert first["has_more"] is True and first["cursor"] == filed[1]
    assert [item["id"] for item in second["items"]] == filed[2:4]
    assert [item["id"] for item in last["items"]] == filed[4:]
    assert last["has_more"] is False
    # At the end the cursor stays where it was: the client keeps it and asks again later.
    assert beyond == {"items": [], "cursor": last["cursor"], "has_more": False}


def test_a_new_provision_appears_after_the_saved_cursor(api, recipient, clerk):
    citizen = make_citizen()
    file(citizen, recipient, clerk)
    cursor = api("provisions").json()["cursor"]

    newer = file(citizen, recipient, clerk)

    assert [item["id"] for item in api("provisions", after=cursor).json()["items"]] == [newer.pk]


@pytest.mark.parametrize(
    "params",
    [
        {"after": "abc"},
        {"after": "-1"},
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "ten"},
        {"after": "1.5"},
        {"after": "9" * 40},
    ],
)
@pytest.mark.parametrize("path", ["provisions", "changes"])
def test_bad_feed_parameters_are_a_json_400(api, recipient, path, params):
    assert_json_error(api(path, **params), 400, "bad_request")


# --- citizen data -----------------------------------------------------------------------------


def test_a_citizen_with_a_provision_can_be_read(api, recipient, clerk):
    citizen = make_citizen(data_box_id="fo12345")
    make_document(
        citizen, "id_card", "203495821", valid_until=date(2031, 5, 20), nia_activated=True
    )
    make_document(citizen, "passport", "45123987", valid_until=date(2030, 1, 31))
    file(citizen, recipient, clerk)

    response = api(f"citizens/{citizen.identifier}")

    assert response.status_code == 200
    assert response.json() == {
        "identifier": str(citizen.identifier),
        "first_names": "Jana",
        "last_name": "Nováková",
        "birth_date": "1985-03-14",
        "birth_place": "Praha",
        "citizenship": "CZ",
        "residence_type": "citizen",
        "address": {
            "street": "Vinohradská",
            "house_number": "1511",
            "orientation_number": "230",
            "municipality_part": "Strašnice",
            "municipality": "Praha",
            "postal_code": "10000",
            "address_point_code": 21776075,
        },
        "documents": [
            {
                "kind": "id_card",
                "number": "203495821",
                "valid_until": "2031-05-20",
                "nia_activated": True,
            },
            {
                "kind": "passport",
                "number": "45123987",
                "valid_until": "2030-01-31",
                "nia_activated": False,
            },
        ],
        "data_box_id": "fo12345",
        "deceased": False,
        "death_date": None,
    }


def test_the_card_pin_is_never_sent(api, recipient, clerk):
    citizen = make_citizen()
    make_document(citizen, card_pin="argon2$secret-hash")
    file(citizen, recipient, clerk)

    assert "card_pin" not in api(f"citizens/{citizen.identifier}").content.decode()
    assert "secret-hash" not in api(f"citizens/{citizen.identifier}").content.decode()


def test_a_citizen_without_a_provision_answers_as_unknown(api, recipient, clerk):
    stranger = make_citizen(last_name="Cizí")
    other = make_recipient("other", OTHER_KEY, "Other")
    file(stranger, other, clerk)  # a provision, but to somebody else

    hidden = api(f"citizens/{stranger.identifier}")
    unknown = api("citizens/6f1c2a9e-4b7d-5e1a-9c3f-2d8e7b6a5c41")

    assert_json_error(hidden, 404, "not_found")
    assert hidden.json() == unknown.json()
    assert api(f"citizens/{stranger.identifier}", key=OTHER_KEY).status_code == 200


@pytest.mark.parametrize("identifier", ["not-a-uuid", "123", "%C5%99"])
def test_a_malformed_identifier_is_a_json_404(api, recipient, identifier):
    assert_json_error(api(f"citizens/{identifier}"), 404, "not_found")


# --- changes feed -----------------------------------------------------------------------------


def test_changes_of_a_citizen_with_a_provision_are_in_the_feed(api, recipient, clerk):
    citizen = make_citizen()
    file(citizen, recipient, clerk)

    change = services.update_citizen(citizen, {"street": "Korunní", "house_number": "810"})

    body = api("changes").json()
    assert body["items"] == [
        {
            "id": change.pk,
            "citizen": str(citizen.identifier),
            "changed_at": change.changed_at.isoformat(),
            "fields": ["street", "house_number"],
        }
    ]
    assert body["cursor"] == change.pk


def test_changes_of_other_citizens_and_from_before_the_provision_are_not(api, recipient, clerk):
    stranger = make_citizen(last_name="Cizí")
    services.update_citizen(stranger, {"street": "Jiná"})
    citizen = make_citizen()
    services.update_citizen(citizen, {"street": "Dřívější"})  # before any provision
    file(citizen, recipient, clerk)

    later = services.update_citizen(citizen, {"postal_code": "13000"})

    assert [item["id"] for item in api("changes").json()["items"]] == [later.pk]


def test_the_changes_feed_pages_and_replays(api, recipient, clerk):
    citizen = make_citizen()
    file(citizen, recipient, clerk)
    ids = [
        services.update_citizen(citizen, {"postal_code": f"1100{number}"}).pk for number in range(5)
    ]

    first = api("changes", limit=3).json()
    replay = api("changes", limit=3).json()
    rest = api("changes", after=first["cursor"], limit=3).json()

    assert first == replay
    assert [item["id"] for item in first["items"]] == ids[:3] and first["has_more"]
    assert [item["id"] for item in rest["items"]] == ids[3:] and not rest["has_more"]


def test_a_later_provision_does_not_change_a_page_read_before(api, recipient, clerk):
    """A feed page must be replayable even when a new provision makes another citizen visible."""
    reader = make_citizen()
    file(reader, recipient, clerk)
    services.update_citizen(reader, {"street": "A"})
    newcomer = make_citizen(last_name="Nový")
    services.update_citizen(newcomer, {"street": "B"})
    services.update_citizen(reader, {"street": "C"})
    page = api("changes").json()

    file(newcomer, recipient, clerk)

    assert api("changes").json() == page


# --- method, unknown paths, outage ------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_a_wrong_method_is_a_json_405(api, recipient, method):
    response = api("provisions", method=method)

    assert_json_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"


@pytest.mark.parametrize("path", ["nothing", "provisions/1", "citizens/", "v2/provisions"])
def test_an_unknown_endpoint_is_a_json_404(client, recipient, path):
    response = client.get(f"/sim/rob/api/v1/{path}", headers={"Authorization": f"Bearer {API_KEY}"})

    assert_json_error(response, 404, "not_found")


@pytest.mark.parametrize("path", ["provisions", "changes", "citizens/x"])
def test_while_the_register_is_down_the_api_answers_503_json(api, recipient, path):
    set_down("rob", True)

    response = api(path)

    assert_json_error(response, 503, "unavailable")
    assert response["Retry-After"]


def test_the_register_down_by_environment_answers_503(api, recipient, settings):
    settings.GOVSIM_OUTAGES = ["rob"]

    assert_json_error(api("provisions"), 503, "unavailable")
