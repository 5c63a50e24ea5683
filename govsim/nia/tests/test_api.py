"""The identity-means API: a provider registers, lists and removes means for a person."""

import json

import pytest

from govsim.api import key_hash
from govsim.nia import services
from govsim.nia.idp import service_provider_metadata
from govsim.nia.models import IdentityMeans, Pseudonym, ServiceProvider

pytestmark = pytest.mark.django_db

API = "/sim/nia/api/v1/means"
KEY = "test-nia-api-key"


def provider(host: str, key: str | None = KEY) -> ServiceProvider:
    entity_id = f"https://{host}/saml/metadata/"
    return ServiceProvider.objects.create(
        entity_id=entity_id,
        name=host,
        metadata_xml=service_provider_metadata(entity_id, f"https://{host}/saml/acs/"),
        api_key_hash=key_hash(key) if key else "",
    )


@pytest.fixture
def portal():
    return provider("portal.example.test")


@pytest.fixture
def person(portal, make_citizen) -> str:
    """A PersonIdentifier NIA gave the portal (as after an eObčanka login)."""
    return services.give_pseudonym(portal, make_citizen())


def call(client, method: str, path: str = API, body=None, key: str | None = KEY, **query):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
    if method == "get":
        return client.get(path, query, **headers)
    return getattr(client, method)(path, data=data, content_type="application/json", **headers)


def means(person: str, means_id: str = "key-1", **fields) -> dict:
    return {
        "person": person,
        "means_id": means_id,
        "kind": "security_key",
        "level": "substantial",
    } | fields


def test_register_list_and_remove_a_means(client, person):
    created = call(client, "post", body=means(person))
    listed = call(client, "get", person=person)
    removed = call(client, "delete", f"{API}/key-1")
    after = call(client, "get", person=person)

    assert created.status_code == 201
    assert created.json()["means_id"] == "key-1"
    assert created.json()["person"] == person
    assert listed.status_code == 200
    assert [(m["means_id"], m["kind"], m["level"]) for m in listed.json()["means"]] == [
        ("key-1", "security_key", "substantial")
    ]
    assert removed.status_code == 204
    assert after.json()["means"] == []
    assert not IdentityMeans.objects.exists()


def test_repeating_a_registration_changes_nothing_but_other_data_is_a_conflict(client, person):
    assert call(client, "post", body=means(person)).status_code == 201

    again = call(client, "post", body=means(person))
    other = call(client, "post", body=means(person, kind="mojeid_klic", level="high"))

    assert again.status_code == 200
    assert other.status_code == 409
    assert other.json()["error"] == "conflict"
    assert IdentityMeans.objects.count() == 1


def test_a_means_can_be_registered_by_the_register_identifier(client, portal, make_citizen):
    citizen = make_citizen()

    created = call(
        client,
        "post",
        body={
            **means("", "klic-1", kind="mojeid_klic", level="high"),
            "person": None,
            "citizen": str(citizen.identifier),
        },
    )
    listed = call(client, "get", citizen=str(citizen.identifier))

    assert created.status_code == 201
    assert created.json()["person"] == services.person_identifier(portal, citizen)
    assert listed.json()["person"] == created.json()["person"]
    assert [m["means_id"] for m in listed.json()["means"]] == ["klic-1"]


def test_the_api_needs_the_key(client, person):
    assert call(client, "get", key=None, person=person).status_code == 401
    assert call(client, "get", key="wrong", person=person).status_code == 401
    assert call(client, "post", body=means(person), key=None).status_code == 401
    assert call(client, "delete", f"{API}/key-1", key="wrong").status_code == 401
    assert call(client, "get", key="wrong", person=person).json()["error"] == "unauthorized"


def test_a_provider_sees_and_removes_only_its_own_means(client, person, make_citizen):
    provider("other.example.test", key="other-key")
    call(client, "post", body=means(person))

    assert call(client, "get", key="other-key", person=person).status_code == 404
    assert call(client, "delete", f"{API}/key-1", key="other-key").status_code == 404
    assert IdentityMeans.objects.count() == 1


def test_an_unknown_person_or_means_is_404_json(client, portal, make_citizen):
    unknown = call(client, "post", body=means("CZ/CZ/" + "0" * 64))
    missing = call(client, "delete", f"{API}/nothing-here")
    nobody = call(client, "get", citizen="8a7f2c1e-5b0d-4b8e-9d43-2f6a1c0e9b11")

    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_person"
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert nobody.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        b"\xff\xfe",
        "[" * 5000,
        [],
        {},
        {"means_id": "k", "kind": "security_key", "level": "substantial"},  # no person
        "PERSON|means_id=",
        "PERSON|means_id=has/slash",
        "PERSON|means_id=" + "x" * 256,
        "PERSON|kind=password",
        "PERSON|level=low",
        "PERSON|level=1",
        "PERSON|extra=1",
        "PERSON|citizen=not-a-uuid",
    ],
)
def test_bad_input_is_400_json(client, person, body):
    if isinstance(body, str) and body.startswith("PERSON|"):
        name, _, value = body.removeprefix("PERSON|").partition("=")
        body = means(person) | {name: int(value) if value == "1" else value}

    response = call(client, "post", body=body)

    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert not IdentityMeans.objects.exists()


@pytest.mark.parametrize("query", [{}, {"person": "a", "citizen": "b"}, {"citizen": "nope"}])
def test_listing_needs_one_person(client, portal, query):
    response = call(client, "get", **query)

    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


def test_wrong_methods_are_405_json(client, person):
    assert call(client, "put", body=means(person)).status_code == 405
    response = call(client, "get", f"{API}/key-1")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert response["Allow"] == "DELETE"


# --- Identifiers are checked before any query (PostgreSQL refuses NUL bytes) ----------------


@pytest.mark.parametrize(
    "query",
    [
        {"person": "a\x00b"},
        {"person": "CZ/CZ/" + "0" * 63 + "\x00"},
        {"person": "CZ/CZ/" + "0" * 63},
        {"person": "CZ/CZ/" + "G" * 64},
        {"citizen": "a\x00b"},
        {"citizen": "8a7f2c1e-5b0d-4b8e-9d43-2f6a1c0e9b1\x00"},
    ],
)
def test_a_malformed_identifier_in_a_listing_is_400_json(client, portal, query):
    response = call(client, "get", **query)

    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


@pytest.mark.parametrize("means_id", ["a%00b", "%00", "has%20space", "x" * 256, "%C3%A9"])
def test_a_malformed_means_id_to_remove_is_400_json(client, portal, means_id):
    response = call(client, "delete", f"{API}/{means_id}")

    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


@pytest.mark.parametrize(
    "fields",
    [
        {"person": "a\x00"},
        {"person": "CZ/CZ/abc"},
        {"person": "\x00"},
        {"person": None, "citizen": "\x00"},
        {"means_id": "key\x00"},
        {"kind": "security_key\x00"},
    ],
)
def test_nul_bytes_and_malformed_identifiers_in_a_registration_are_400_json(client, person, fields):
    response = call(client, "post", body=means(person) | fields)

    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert not IdentityMeans.objects.exists()


# --- Every answer under api/ is JSON ---------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"{API}/",
        "/sim/nia/api/v1/nothing",
        "/sim/nia/api/v1/means/key-1/more",
        "/sim/nia/api/v1/x%0Ay",
        "/sim/nia/api/",
        "/sim/nia/api",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_unknown_api_address_is_404_json(client, portal, path, method):
    response = call(client, method, path, body={})

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_found"


def test_a_body_over_the_apis_limit_is_413_json(client, person):
    body = json.dumps(means(person) | {"padding": "x" * (20 * 1024)})

    response = call(client, "post", body=body)

    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert not IdentityMeans.objects.exists()


def test_a_body_over_djangos_limit_is_json_too(client, person, settings):
    """Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE with its own (HTML) 400 page."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps(means(person) | {"padding": "x" * 2000})  # within the API's own limit

    response = call(client, "post", body=body)

    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


def test_a_body_of_megabytes_is_refused_before_it_is_read(client, person):
    response = call(client, "post", body="x" * (3 * 1024 * 1024))

    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


# --- Listing by register identifier reveals nothing new ----------------------------------


def test_listing_by_register_identifier_answers_only_for_people_the_service_knows(
    client, portal, make_citizen
):
    stranger = make_citizen()
    services.give_pseudonym(provider("other.example.test", key="other-key"), stranger)
    known = make_citizen()
    person = services.give_pseudonym(portal, known)

    missing = call(client, "get", citizen="8a7f2c1e-5b0d-4b8e-9d43-2f6a1c0e9b11")
    unlinked = call(client, "get", citizen=str(stranger.identifier))
    linked = call(client, "get", citizen=str(known.identifier))

    # An existing citizen the service never met looks exactly like one that does not exist…
    assert unlinked.status_code == missing.status_code == 404
    assert unlinked.json() == missing.json()
    # … and asking gives the service no pseudonym.
    assert not Pseudonym.objects.filter(service_provider=portal, citizen=stranger).exists()
    assert linked.status_code == 200
    assert linked.json() == {"person": person, "means": []}


def test_listing_by_register_identifier_finds_a_person_known_by_a_means(
    client, portal, make_citizen
):
    citizen = make_citizen()
    person = services.person_identifier(portal, citizen)
    IdentityMeans.objects.create(
        service_provider=portal,
        citizen=citizen,
        person=person,
        means_id="key-9",
        kind="security_key",
        level="substantial",
    )

    listed = call(client, "get", citizen=str(citizen.identifier))

    assert listed.status_code == 200
    assert listed.json()["person"] == person
    assert [m["means_id"] for m in listed.json()["means"]] == ["key-9"]
    assert not Pseudonym.objects.exists()
