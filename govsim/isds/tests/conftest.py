"""A small world of data boxes for the tests: the portal's box (with its API key), natural
persons' boxes linked to citizens of the simulated register, a business box, a company box with
an authorised person, and a stranger's box."""

import datetime
import json
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from govsim.api import key_hash
from govsim.isds.models import BoxAccess, BoxType, DataBox, Person, Role
from govsim.rob.models import Citizen, ResidenceType

PASSWORD = "demo-heslo-2026"
PORTAL_KEY = "test-isds-key-portal"
LOGIN_URL = "/sim/isds/login/"
CONCEPT_URL = "/sim/isds/concept/"
API_URL = "/sim/isds/api/v1/messages"


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    # The production hasher costs 100 MiB and ~130 ms per check; what is tested here is who may
    # sign in, not the hash's strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_citizen(first_names: str, last_name: str, birth_date: datetime.date) -> Citizen:
    return Citizen.objects.create(
        first_names=first_names,
        last_name=last_name,
        birth_date=birth_date,
        birth_place="Praha",
        residence_type=ResidenceType.CITIZEN,
    )


def make_person(username: str, first: str, last: str, citizen: Citizen | None = None) -> Person:
    person = Person(username=username, first_names=first, last_name=last, citizen=citizen)
    person.set_password(PASSWORD)
    person.save()
    return person


def make_box(box_id: str, box_type: str, name: str, **access: str) -> DataBox:
    """make_box("jnovak1", BoxType.FO, "Jana Nováková", jana=Role.OWNER)"""
    box = DataBox.objects.create(box_id=box_id, box_type=box_type, name=name)
    for username, role in access.items():
        BoxAccess.objects.create(box=box, person=Person.objects.get(username=username), role=role)
    return box


@dataclass
class World:
    portal: DataBox
    jana_citizen: Citizen
    petr_citizen: Citizen
    jana: Person
    petr: Person
    karel: Person
    stranger: Person


@pytest.fixture
def world(db) -> World:
    jana_citizen = make_citizen("Jana", "Nováková", datetime.date(1985, 3, 14))
    petr_citizen = make_citizen("Petr", "Dvořák", datetime.date(1979, 7, 2))
    world = World(
        portal=DataBox.objects.create(
            box_id="mojeid1",
            box_type=BoxType.PO,
            name="CZ.NIC, z. s. p. o.",
            api_key_hash=key_hash(PORTAL_KEY),
        ),
        jana_citizen=jana_citizen,
        petr_citizen=petr_citizen,
        jana=make_person("jana", "Jana", "Nováková", jana_citizen),
        petr=make_person("petr", "Petr", "Dvořák", petr_citizen),
        karel=make_person("karel", "Karel", "Pekař"),  # not linked to the register
        stranger=make_person("eva", "Eva", "Cizí"),
    )
    make_box("jnovak1", BoxType.FO, "Jana Nováková", jana=Role.OWNER)
    make_box("pdvora1", BoxType.FO, "Petr Dvořák", petr=Role.OWNER)
    make_box("pdvora2", BoxType.PFO, "Petr Dvořák – truhlářství", petr=Role.OWNER)
    make_box(
        "peknov1", BoxType.PO, "Pekárna U Nováků s.r.o.", karel=Role.OWNER, jana=Role.AUTHORISED
    )
    make_box("evacizi", BoxType.FO, "Eva Cizí", eva=Role.OWNER)
    return world


def sign_in(client: Client, username: str, password: str = PASSWORD, next_url: str = ""):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(LOGIN_URL, data)


def concept_link(to: str = "mojeid1", subject: str = "Ověření totožnosti", text: str = "") -> str:
    text = text or "Žádám o ověření totožnosti pro MojeID.\nKód žádosti: MID-7K3Q-92XA"
    return f"{CONCEPT_URL}?{urlencode({'to': to, 'subject': subject, 'text': text})}"


def read_feed(client: Client, key: str = PORTAL_KEY, **params):
    return client.get(API_URL, params, HTTP_AUTHORIZATION=f"Bearer {key}")


def post_message(client: Client, body: object = None, key: str = PORTAL_KEY, **fields):
    """Send a message over the API with a box's key: `body` as JSON (bytes as they are), else
    a valid message from the portal's box to Jana's, with `fields` changed."""
    if body is None:
        body = {
            "recipient_box_id": "jnovak1",
            "subject": "Ověření totožnosti dokončeno",
            "text": "Dobrý den,\nvaše totožnost je ověřena.",
            "reference": "verification-42",
            **fields,
        }
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(
        API_URL, data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )


def message_url(pk: int) -> str:
    return reverse("govsim:isds:message", args=[pk])
