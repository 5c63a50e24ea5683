"""Test data of the register: citizens, documents, a recipient with its key, provisions; portal
accounts, and the simulator's clerks (`govsim.tests.people`).

Plain functions (no fixtures), shared by the register's and the desk's tests.
"""

import itertools
from datetime import date

from django.contrib.auth import get_user_model

from czechpoint import request_code
from govsim.api import key_hash
from govsim.rob import services
from govsim.rob.models import Citizen, IdDocument, Recipient
from govsim.tests.people import PASSWORD
from govsim.tests.people import make_clerk as make_clerk  # the desk's clerk, for the tests

API_KEY = "test-key-of-mojeid"
OTHER_KEY = "test-key-of-another-recipient"

_numbers = itertools.count(100000001)


def make_recipient(code: str = "mojeid", key: str = API_KEY, name: str = "MojeID") -> Recipient:
    return Recipient.objects.create(code=code, name=name, api_key_hash=key_hash(key))


def make_citizen(**fields) -> Citizen:
    values = {
        "first_names": "Jana",
        "last_name": "Nováková",
        "birth_date": date(1985, 3, 14),
        "birth_place": "Praha",
        "residence_type": "citizen",
        "street": "Vinohradská",
        "house_number": "1511",
        "orientation_number": "230",
        "municipality_part": "Strašnice",
        "municipality": "Praha",
        "postal_code": "10000",
        "address_point_code": 21776075,
    }
    values.update(fields)
    return Citizen.objects.create(**values)


def make_document(
    citizen: Citizen, kind: str = "id_card", number: str | None = None, **fields
) -> IdDocument:
    fields.setdefault("valid_until", date(2035, 1, 1))
    return IdDocument.objects.create(
        citizen=citizen, kind=kind, number=number or str(next(_numbers)), **fields
    )


def make_user(username: str, *, first_name: str = "Marie", last_name: str = "Úřednická"):
    """A portal account (not one of the simulator's people)."""
    return get_user_model().objects.create_user(
        username,
        password=PASSWORD,
        first_name=first_name,
        last_name=last_name,
        email=f"{username}@example.cz",
    )


def file(citizen: Citizen, recipient: Recipient, clerk, code: str | None = None, **fields):
    provision, _created = services.file_provision(
        recipient=recipient,
        request_code=code or request_code.generate(),
        citizen=citizen,
        clerk=clerk,
        office="Czech POINT – test",
        **fields,
    )
    return provision
