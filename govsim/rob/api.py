"""The register's JSON API for data recipients (the MojeID portal), under /sim/rob/api/v1/.

Authenticated with the recipient's API key (`Authorization: Bearer <key>`). A recipient sees
only what concerns it: its own data provisions, and the data and changes of the citizens it has
a data provision for. Feeds are replayable cursor feeds (`govsim.api.feed_page`). Every answer is
JSON, errors included; the outage switch "rob" makes every endpoint answer 503.
"""

import uuid

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from govsim.api import ApiError, api_view, bearer_key, feed_page
from govsim.outage import System

from . import services
from .models import Citizen, CitizenChange, DataProvisionRequest, Recipient

NOT_FOUND = ApiError("not_found", 404, "no such citizen")


def _recipient(request: HttpRequest) -> Recipient:
    recipient = services.recipient_for_key(bearer_key(request))
    if recipient is None:
        raise ApiError("unauthorized", 401, "unknown API key")
    return recipient


def provision_item(provision: DataProvisionRequest, clerk_name: str | None = None) -> dict:
    """One item of the provisions feed; `stated` is the foreigner's data as the clerk typed it."""
    document = provision.document
    stated = None
    if provision.stated_first_names or provision.stated_last_name or provision.stated_birth_date:
        stated = {
            "first_names": provision.stated_first_names,
            "last_name": provision.stated_last_name,
            "birth_date": (
                provision.stated_birth_date.isoformat() if provision.stated_birth_date else None
            ),
        }
    return {
        "id": provision.pk,
        "request_code": provision.request_code,
        "citizen": str(provision.citizen.identifier),
        "filed_at": provision.created_at.isoformat(),
        "office": provision.office,
        "clerk": clerk_name if clerk_name is not None else provision.clerk.get_short_name(),
        "document": {"kind": document.kind, "number": document.number} if document else None,
        "stated": stated,
    }


def citizen_data(citizen: Citizen) -> dict:
    """The citizen's register data as a recipient reads it (never the card PIN)."""
    return {
        "identifier": str(citizen.identifier),
        "first_names": citizen.first_names,
        "last_name": citizen.last_name,
        "birth_date": citizen.birth_date.isoformat(),
        "birth_place": citizen.birth_place,
        "citizenship": citizen.citizenship,
        "residence_type": citizen.residence_type,
        "address": {
            "street": citizen.street,
            "house_number": citizen.house_number,
            "orientation_number": citizen.orientation_number,
            "municipality_part": citizen.municipality_part,
            "municipality": citizen.municipality,
            "postal_code": citizen.postal_code,
            "address_point_code": citizen.address_point_code,
        },
        "documents": [
            {
                "kind": document.kind,
                "number": document.number,
                "valid_until": document.valid_until.isoformat() if document.valid_until else None,
                "nia_activated": document.nia_activated,
            }
            for document in citizen.documents.order_by("kind", "number")
        ],
        "data_box_id": citizen.data_box_id,
        "deceased": citizen.deceased,
        "death_date": citizen.death_date.isoformat() if citizen.death_date else None,
    }


def change_item(change: CitizenChange) -> dict:
    """One item of the changes feed: which fields changed (names from TRACKED_FIELDS or
    "documents"); the recipient reads the citizen again for the new values."""
    return {
        "id": change.pk,
        "citizen": str(change.citizen.identifier),
        "changed_at": change.changed_at.isoformat(),
        "fields": list(change.fields),
    }


@csrf_exempt  # bearer-key clients send no cookies; a POST must reach the 405
@api_view(System.ROB)
def provisions(request: HttpRequest) -> JsonResponse:
    """GET provisions?after=&limit=: the recipient's data provisions, oldest first."""
    recipient = _recipient(request)
    # A page holds few clerks: look each one's name up once, not once an item.
    names: dict[int, str] = {}

    def item(provision: DataProvisionRequest) -> dict:
        if provision.clerk_id not in names:
            names[provision.clerk_id] = provision.clerk.get_short_name()
        return provision_item(provision, names[provision.clerk_id])

    return feed_page(request, services.provisions_for(recipient), item)


@csrf_exempt
@api_view(System.ROB)
def citizen(request: HttpRequest, identifier: str) -> JsonResponse:
    """GET citizens/<identifier>: a citizen's data, to a recipient with a provision for them.

    A citizen without one answers exactly as an unknown identifier (404), so that the API does
    not reveal who is in the register.
    """
    recipient = _recipient(request)
    try:
        parsed = uuid.UUID(identifier)
    except ValueError:
        raise NOT_FOUND from None
    found = services.citizens_for(recipient).filter(identifier=parsed).first()
    if found is None:
        raise NOT_FOUND
    return JsonResponse(citizen_data(found))


@csrf_exempt
@api_view(System.ROB)
def changes(request: HttpRequest) -> JsonResponse:
    """GET changes?after=&limit=: changes of the data of the recipient's citizens, oldest first."""
    recipient = _recipient(request)
    return feed_page(request, services.changes_for(recipient), change_item)


@csrf_exempt
@api_view(System.ROB, methods=("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"))
def unknown_endpoint(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other path under the API: a JSON 404 rather than the HTML page of the site."""
    raise ApiError("not_found", 404, "no such endpoint")
