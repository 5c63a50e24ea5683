"""No admin page of the portal filters, searches or sorts on a secret.

Django's admin takes a filter on any of a model's own fields from the URL, whatever the page
shows: `?body__regex=^1` makes the outbox list count the messages whose body starts with 1, which
reads a code out one character at a time. Every model on the helpdesk's admin site is walked here:
each of its secrets (its `SECRET_FIELDS`, and every field whose name looks like a secret unless
listed below as not being one) must be refused as a filter, directly and across relations, and
never be a search or sort field. A new model or field is covered without editing this test.
"""

import re

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from adminguard import secret_fields

pytestmark = pytest.mark.django_db

LOOKS_SECRET = re.compile(
    r"password|pin|hash|token|secret|verifier|challenge|nonce|key|text|body|code|attestation"
    r"|statement|client_data"
)
# Names that look like secrets and are not, with the reason.
NOT_SECRET = {
    "contact_codes": "a relation; its model's own secrets are checked through it",
    "security_keys": "a relation; its model's own secrets are checked through it",
    "key_identifiers": "a relation to public metadata (attestation key identifiers)",
    "key_identifier": "the public subject key identifier of an attestation certificate",
    "entry_key": "the metadata entry's public AAGUID or key identifier",
    "root_public_keys": "public keys of attestation roots, from public metadata",
    "statement": "the public FIDO metadata statement",
    "failed_pins": "a count of wrong PINs, not a PIN",
    "attestation_format": "the name of the attestation format (packed, tpm, …)",
    "attestation_certificate_sha256": "the fingerprint of a public attestation certificate",
    "attestation_trusted": "whether the attestation chain was trusted (a flag)",
    "key_type": "the kind of key (hardware, Windows Hello, …)",
}


def _models():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _secrets(model) -> set[str]:
    looks = {
        field.name
        for field in model._meta.get_fields()
        if LOOKS_SECRET.search(field.name) and field.name not in NOT_SECRET
    }
    return set(secret_fields(model)) | looks


@pytest.fixture
def superuser(make_user):
    return make_user("root", is_staff=True, is_superuser=True)


@pytest.fixture
def root(superuser, sign_in_verified):
    return sign_in_verified(Client(HTTP_ACCEPT_LANGUAGE="en"), superuser)


def _changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.mark.parametrize("model", [model for model, _ in _models()], ids=lambda m: m.__name__)
def test_every_secret_looking_field_is_declared_secret(model):
    undeclared = _secrets(model) - set(secret_fields(model))
    assert not undeclared, (
        f"{model.__name__}: declare {sorted(undeclared)} in SECRET_FIELDS, or list them in "
        "NOT_SECRET with the reason they are not secrets"
    )


@pytest.mark.parametrize("model", [model for model, _ in _models()], ids=lambda m: m.__name__)
def test_no_secret_can_be_filtered_searched_or_sorted(model, root, superuser, rf):
    model_admin = admin.site._registry[model]
    url = _changelist(model)
    assert root.get(url).status_code == 200, "the superuser sees the list"
    paths = sorted(_secrets(model))
    for field in model._meta.get_fields():
        if field.is_relation and field.related_model is not None:
            paths += [f"{field.name}__{name}" for name in _secrets(field.related_model)]

    for path in paths:
        for lookup in (f"{path}__regex", f"{path}__startswith", path):
            response = root.get(url, {lookup: "a"})
            assert response.status_code == 400, f"{model.__name__}: ?{lookup}= was accepted"

    request = rf.get(url)
    request.user = superuser
    searched = set(model_admin.get_search_fields(request))
    sortable = set(model_admin.get_sortable_by(request)) | set(model_admin.ordering or ())
    for path in paths:
        assert not any(name.lstrip("=^@-").startswith(path) for name in searched), path
        assert not any(str(name).lstrip("-").startswith(path) for name in sortable), path


def test_the_outbox_cannot_be_read_a_character_at_a_time(root, user):
    """The review's example: an SMS with a code, and a regex over its body."""
    from mojeid import messaging

    messaging.queue_sms("+420601123456", "contact_code", {"user": user, "pin": "482913"}, "en")

    response = root.get("/admin/mojeid/outboxmessage/", {"body__regex": "^.*4"})

    assert response.status_code == 400
    assert "482913" not in response.content.decode()
