"""The identity-means API of the simulated NIA: a qualified provider (the MojeID portal) registers,
lists and removes the means (security keys, MojeID Klíč) that identify a person through it.

JSON over HTTP under `api/v1/`, authenticated with the service's API key
(`Authorization: Bearer <key>`); every refusal is a 4xx JSON `{"error", "message"}` (an unknown
address under `api/` too), and while the "nia" outage switch is on every call answers 503 JSON.

    POST   means                {person | citizen, means_id, kind, level} → 201 (200 if repeated)
    GET    means?person=… | ?citizen=…                                      → 200
    DELETE means/<means_id>                                                 → 204

A listing by `citizen` (the register's identifier) answers only for a citizen NIA already gave
this service a pseudonym for, or this service registered a means for: any other is 404, as if
the register did not know them, and nothing is written.
"""

import json

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from govsim.api import ApiError, api_view, bearer_key, error_response, key_hash

from . import services
from .models import ServiceProvider

MAX_BODY_BYTES = 16 * 1024


def _service(request: HttpRequest) -> ServiceProvider:
    """The active service whose API key the request carries."""
    found = ServiceProvider.objects.filter(
        api_key_hash=key_hash(bearer_key(request)), active=True
    ).first()
    if found is None:
        raise ApiError("unauthorized", 401, "unknown API key")
    return found


def _too_large() -> ApiError:
    return ApiError("too_large", 413, f"the body must be at most {MAX_BODY_BYTES} bytes")


def _json_body(request: HttpRequest) -> object:
    # Refuse by the announced length before reading anything, and answer Django's own refusal
    # (DATA_UPLOAD_MAX_MEMORY_SIZE) in JSON too.
    try:
        announced = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ApiError("bad_request", 400, "invalid Content-Length") from None
    if announced > MAX_BODY_BYTES:
        raise _too_large()
    try:
        body = request.body
    except RequestDataTooBig:
        raise _too_large() from None
    if len(body) > MAX_BODY_BYTES:
        raise _too_large()
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError("bad_request", 400, "the body must be JSON") from None


@csrf_exempt
@api_view("nia", methods=("GET", "POST"))
def means_collection(request: HttpRequest) -> JsonResponse:
    """POST: register a means (201; 200 when the same registration is repeated). GET: the means
    this service registered for a person, `?person=<PersonIdentifier>` or `?citizen=<uuid>`."""
    service = _service(request)
    if request.method == "POST":
        wanted = services.validate_means(_json_body(request))
        with transaction.atomic():
            means, created = services.register_means(service, wanted)
        return JsonResponse(services.serialise_means(means), status=201 if created else 200)
    person = request.GET.get("person", "").strip()
    citizen = request.GET.get("citizen", "").strip()
    if bool(person) == bool(citizen):
        raise ApiError("bad_request", 400, "give either ?person= or ?citizen=")
    found, person = services.known_person(service, person=person, citizen=citizen)
    means = services.means_of(service, found)
    return JsonResponse({"person": person, "means": [services.serialise_means(m) for m in means]})


@csrf_exempt
@api_view("nia", methods=("DELETE",))
def means_item(request: HttpRequest, means_id: str) -> HttpResponse:
    """Remove a means this service registered: 204, or 404 if it registered no such means."""
    service = _service(request)
    services.remove_means(service, means_id)
    return HttpResponse(status=204)


@csrf_exempt
def not_found(request: HttpRequest) -> JsonResponse:
    """Any other address under `api/`: a JSON 404, not the site's HTML page."""
    return error_response(ApiError("not_found", 404, "no such API endpoint"))
