"""What the demo service does besides SAML: its registration at the simulated NIA, the requests
it sent and waits an answer for (in the browser's session), and who is signed in to it.

Each request is answered once: the answer that arrives first claims the request's ID in the
cache (atomically, so of two posts at once only one signs in) and removes it from the session.
"""

import hashlib
import time

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest

from govsim.nia.models import ServiceProvider

from . import saml

PENDING_KEY = "sim_sep_requests"
PERSON_KEY = "sim_sep_person"
# An AuthnRequest waits this long for its answer (NIA forgets a login after 15 minutes).
REQUEST_SECONDS = 20 * 60
MAX_PENDING = 5  # requests waiting per browser session (several tabs); the oldest go first


@transaction.atomic
def ensure_registered(request: HttpRequest) -> ServiceProvider:
    """Register the service at NIA under the entity ID of where it is served, with its current
    metadata and encrypted assertions; refresh the metadata when it changed (a new key, another
    address scheme).

    An operator's later choices in the simulator admin (active, encryption) are kept: switching
    encryption off there shows how the service refuses a plain assertion.
    """
    entity_id = saml.entity_id(request)
    metadata = saml.metadata_xml(request)
    service, created = ServiceProvider.objects.select_for_update().get_or_create(
        entity_id=entity_id,
        defaults={
            "name": saml.SERVICE_NAME,
            "metadata_xml": metadata,
            "encrypt_assertions": True,
        },
    )
    if not created and service.metadata_xml != metadata:
        service.metadata_xml = metadata
        service.save(update_fields=["metadata_xml", "updated_at"])
    return service


# --- Requests waiting for their answer ------------------------------------------------------


def _pending(request: HttpRequest) -> dict[str, dict]:
    now = time.time()
    return {
        request_id: state
        for request_id, state in request.session.get(PENDING_KEY, {}).items()
        if isinstance(state, dict) and now - state.get("created", 0) < REQUEST_SECONDS
    }


def remember_request(request: HttpRequest, request_id: str, level: str) -> None:
    """Keep the ID of a request sent and the level it asked for, until its answer comes."""
    pending = _pending(request)
    pending[request_id] = {"level": level, "created": time.time()}
    newest = sorted(pending.items(), key=lambda item: item[1]["created"])[-MAX_PENDING:]
    request.session[PENDING_KEY] = dict(newest)


def pending_level(request: HttpRequest, request_id: str) -> str | None:
    """The level the request `request_id` of this browser asked for; None when no such request
    waits (never sent from here, answered already, or too old)."""
    state = _pending(request).get(request_id)
    return state["level"] if state else None


def _answered_key(request_id: str) -> str:
    return "sim_sep:answered:" + hashlib.sha256(request_id.encode("utf-8")).hexdigest()


def claim_answer(request: HttpRequest, request_id: str) -> bool:
    """Take the request's one answer: False when another answer took it already."""
    pending = _pending(request)
    if pending.pop(request_id, None) is None:
        return False
    request.session[PENDING_KEY] = pending
    return cache.add(_answered_key(request_id), 1, REQUEST_SECONDS)


# --- Who is signed in -----------------------------------------------------------------------


def sign_in(request: HttpRequest, person: saml.SignedIn) -> None:
    """Remember the person in the session, under a new session key (no fixation)."""
    request.session.cycle_key()
    request.session[PERSON_KEY] = person.as_dict()


def signed_in(request: HttpRequest) -> saml.SignedIn | None:
    """The person signed in to the demo service in this browser, if any."""
    data = request.session.get(PERSON_KEY)
    try:
        return saml.SignedIn.from_dict(data) if data else None
    except (TypeError, ValueError, KeyError):  # stored by an older version of this code
        return None


def sign_out(request: HttpRequest) -> None:
    """Forget the person (the rest of the session, the portal's own sign-in, stays)."""
    request.session.pop(PERSON_KEY, None)
