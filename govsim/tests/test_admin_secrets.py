"""The simulator's admin leaks no secret through its change lists.

Django's admin accepts a filter on any of a model's own fields from the address, whatever the
ModelAdmin shows: `?password__regex=^a` makes a change list count the rows whose hash starts with
"a", which reads a secret one character at a time. For every model of the simulator's admin site
and every secret field — the model's `SECRET_FIELDS`, and any field whose name looks like a secret
unless it is listed below as none — an operator's filter on it answers 400, on the model or
across a relation, and no search or sort of the admin touches it.
"""

import re

import pytest
from django.db.models import Field
from django.test import RequestFactory

from adminguard import secret_fields, touches_secret
from govsim.admin import site
from govsim.tests.people import make_operator, signed_in_as

pytestmark = pytest.mark.django_db

SECRET_NAME = re.compile(
    r"password|pin|hash|token|secret|verifier|challenge|nonce|key|text|body|code"
)

# Fields whose names look like secrets and are none, and why (`app_label.model.field`).
NOT_SECRETS = {
    # Parts of a citizen's address as the register keeps it (RÚIAN): public data.
    "sim_rob.citizen.postal_code",
    "sim_rob.citizen.address_point_code",
    # The recipient's public slug (`mojeid`), shown in its list.
    "sim_rob.recipient.code",
    # The code the citizen brought to the desk, printed on the receipt and shown in the list of
    # provisions: once filed it is used up, and the register's recipient reads it anyway.
    "sim_rob.dataprovisionrequest.request_code",
}


def label(model, name: str) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}.{name}"


def own_fields(model) -> list[str]:
    return [
        field.name
        for field in model._meta.get_fields()
        if isinstance(field, Field) and not field.is_relation
    ]


def secrets_of(model) -> list[str]:
    return sorted(secret_fields(model))


def relations_of(model):
    """(lookup name, related model) of every relation the admin's URL may follow, both ways."""
    for field in model._meta.get_fields():
        if not field.is_relation or field.related_model is None:
            continue
        # A reverse relation's `name` is the name a lookup uses (its related query name).
        yield field.name, field.related_model


ADMINS = sorted(site._registry.items(), key=lambda item: item[0]._meta.label)
MODELS_WITH_THEIR_RELATED = sorted(
    {model for model, _admin in ADMINS}
    | {related for model, _admin in ADMINS for _name, related in relations_of(model)},
    key=lambda model: model._meta.label,
)


def changelist(model) -> str:
    return f"/sim/admin/{model._meta.app_label}/{model._meta.model_name}/"


@pytest.fixture
def operator_client(client):
    return signed_in_as(client, make_operator())


@pytest.mark.parametrize("model", MODELS_WITH_THEIR_RELATED, ids=lambda m: m._meta.label)
def test_every_field_named_like_a_secret_is_declared_secret_or_listed_as_none(model):
    undeclared = [
        label(model, name)
        for name in own_fields(model)
        if SECRET_NAME.search(name)
        and name not in secret_fields(model)
        and label(model, name) not in NOT_SECRETS
    ]

    assert undeclared == []


@pytest.mark.parametrize(
    "must_be_secret",
    [
        "govsim.StaffMember.password",
        "sim_isds.Person.password",
        "sim_isds.DataBox.api_key_hash",
        "sim_isds.Message.text",
        "sim_isds.Message.concept_token",
        "sim_rob.Recipient.api_key_hash",
        "sim_rob.IdDocument.card_pin",
        "sim_nia.ServiceProvider.api_key_hash",
    ],
)
def test_the_known_secrets_are_declared(must_be_secret):
    from django.apps import apps

    model_label, name = must_be_secret.rsplit(".", 1)

    assert name in secret_fields(apps.get_model(model_label))


SECRET_LOOKUPS = [
    pytest.param(model, f"{name}__{lookup}", id=f"{model._meta.label}?{name}__{lookup}")
    for model, _admin in ADMINS
    for name in secrets_of(model)
    for lookup in ("regex", "startswith")
]
RELATED_SECRET_LOOKUPS = [
    pytest.param(
        model,
        f"{relation}__{name}__regex",
        id=f"{model._meta.label}?{relation}__{name}__regex",
    )
    for model, _admin in ADMINS
    for relation, related in relations_of(model)
    for name in secrets_of(related)
]


def test_there_are_secrets_to_look_for():
    assert len(SECRET_LOOKUPS) >= 12 and len(RELATED_SECRET_LOOKUPS) >= 8


@pytest.mark.parametrize("model, lookup", SECRET_LOOKUPS)
def test_a_filter_on_a_secret_is_refused(operator_client, model, lookup):
    value = "." if lookup.endswith("regex") else "x"

    response = operator_client.get(changelist(model), {lookup: value})

    assert response.status_code == 400


@pytest.mark.parametrize("model, lookup", RELATED_SECRET_LOOKUPS)
def test_a_filter_on_a_secret_across_a_relation_is_refused(operator_client, model, lookup):
    response = operator_client.get(changelist(model), {lookup: "."})

    assert response.status_code == 400


@pytest.mark.parametrize(
    "model, model_admin",
    [pytest.param(model, model_admin, id=model._meta.label) for model, model_admin in ADMINS],
)
def test_no_search_sort_or_filter_of_an_admin_names_a_secret(model, model_admin):
    request = RequestFactory().get(changelist(model))
    declared = [
        *model_admin.search_fields,
        *(name for name in model_admin.list_display if isinstance(name, str)),
        *(name for name in (model_admin.sortable_by or ()) if isinstance(name, str)),
        *(name for name in (model_admin.ordering or ()) if isinstance(name, str)),
        *(name for name in model_admin.list_filter if isinstance(name, str)),
    ]
    effective = [
        *model_admin.get_search_fields(request),
        *(name for name in model_admin.get_sortable_by(request) if isinstance(name, str)),
        *(name for name in model_admin.get_ordering(request) if isinstance(name, str)),
    ]

    assert [name for name in declared if touches_secret(model, name)] == []
    assert [name for name in effective if touches_secret(model, name)] == []


def test_an_ordinary_filter_still_works(operator_client):
    from govsim.isds.models import DataBox

    response = operator_client.get(changelist(DataBox), {"box_type__exact": "PO"})

    assert response.status_code == 200


def test_a_message_text_is_not_found_by_search_either(operator_client):
    from govsim.isds.models import BoxType, DataBox, Message

    box = DataBox.objects.create(box_id="abcdefg", box_type=BoxType.FO, name="Jana")
    Message.objects.create(
        sender_box=box,
        recipient_box=box,
        sender_box_type="FO",
        sender_box_name="Jana",
        subject="Ověření",
        text="Kód: 482913",
    )

    found = operator_client.get(changelist(Message), {"q": "482913"})
    by_subject = operator_client.get(changelist(Message), {"q": "Ověření"})

    assert found.status_code == 200 and found.context["cl"].result_count == 0
    assert by_subject.context["cl"].result_count == 1
