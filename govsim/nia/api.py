"""The back-channel of the simulated NIA for qualified identity providers (the MojeID portal),
over HTTP: one address per operation, `POST api/v1/submit/<operation>` with a JSON object (see
`backchannel` for the operations and their answers).

Authenticated with the service's API key (`Authorization: Bearer <key>`). A request NIA does not
take is a 4xx JSON `{"error", "message"}`: 401 for an unknown key, 404 for an unknown operation
(or any other address under `api/`), 405 for another method than POST, 413 for a body over
MAX_BODY_BYTES, 400 for a body the operation cannot read; while the "nia" outage switch is on,
every call answers 503 JSON. Whatever the operation answers — "OK" or a business "Error" — is 200.
"""

import json

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from govsim.api import ApiError, api_view, bearer_key, error_response, key_hash

from . import backchannel
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
@api_view("nia", methods=("POST",))
def submit(request: HttpRequest, action: str) -> JsonResponse:
    """One operation of the back-channel (`backchannel.OPERATIONS`): its answer, 200 whether
    "OK" or "Error" (then nothing was written)."""
    service = _service(request)
    operation = backchannel.OPERATIONS.get(action)
    if operation is None:
        raise ApiError("not_found", 404, "no such operation")
    body = _json_body(request)
    try:
        with transaction.atomic():
            answer = operation(service, body)
    except backchannel.Refusal as refusal:
        answer = refusal.answer()
    return JsonResponse(answer)


@csrf_exempt
def not_found(request: HttpRequest) -> JsonResponse:
    """Any other address under `api/`: a JSON 404, not the site's HTML page."""
    return error_response(ApiError("not_found", 404, "no such API endpoint"))
