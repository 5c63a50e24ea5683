"""Web pages and the JSON API of the simulated data box system, mounted at /sim/isds/.

Pages: sign-in of a data box person, the boxes they act for, a box's messages, one message, the
prepared message ("concept") that a service such as the portal links to:
`concept/?to=<box ID>&subject=<text>&text=<text>` (with `&publish=1` the box "Publish my
identity" is ticked at first), and a new message written in a box (`box/<box ID>/new/`), which
goes on to the same check-and-send page as a concept. API: `api/v1/messages`, GET the receiving
box's messages after a cursor, POST a message sent by the box's own system (`api_messages`); any
other path under `api/` is a JSON 404. The views only parse input and call `services`.
"""

import datetime
import json
import re
import secrets
from types import SimpleNamespace
from urllib.parse import urlencode

from django.core.exceptions import RequestDataTooBig
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from govsim.api import ApiError, api_view, bearer_key, feed_page
from govsim.forms import SignInForm
from govsim.nia.eidas import address_line
from govsim.outage import unless_down
from govsim.signin import login_redirect, next_page

from . import services
from .forms import ConceptForm, SendForm, WriteForm
from .models import (
    BOX_ID_PATTERN,
    REFERENCE_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    BoxAccess,
    DataBox,
    Message,
    Person,
)

SYSTEM = "isds"
SHOWN_MESSAGES = 50
CONCEPT_FIELDS = ("to", "subject", "text")
# The check-and-send page's "Publish my identity" box; "1" when ticked, in a link too.
PUBLISH_FIELD = "publish"
# A message sent over the API: its JSON object's fields, and a cap on the body above the longest
# valid one — every character of the longest text and subject escaped by an ASCII-only encoder as
# a surrogate pair (12 bytes, "\ud83d\ude00"), some 124 KB — so that no valid message is refused.
SEND_FIELDS = ("recipient_box_id", "subject", "text", "reference")
MAX_SEND_BYTES = 128 * 1024


@unless_down(SYSTEM, api=False)
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """Sign-in of a data box person; then on to `next` (e.g. back to the concept)."""
    next_url = next_page(request, default=reverse("govsim:isds:index"))
    error = None
    if request.method == "POST":
        form = SignInForm(request.POST)
        person = (
            services.authenticate(form.cleaned_data["username"], form.cleaned_data["password"])
            if form.is_valid()
            else None
        )
        if person is not None:
            services.sign_in(request, person)
            return redirect(next_url)
        # One message for an unknown user, a wrong password and too many attempts alike.
        error = _(
            "Wrong username or password, or too many attempts. Check them and try again "
            "in a moment."
        )
        form = SignInForm(initial={"username": request.POST.get("username", "")[:64]})
    else:
        form = SignInForm()
    return render(
        request,
        "govsim/isds/login.html",
        {"form": form, "error": error, "next": next_url, "person": None},
    )


@unless_down(SYSTEM, api=False)
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    services.sign_out(request)
    return redirect("govsim:isds:login")


@unless_down(SYSTEM, api=False)
@never_cache
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """The boxes the signed-in person may act for."""
    person = services.signed_in_person(request)
    if person is None:
        return login_redirect(request, reverse("govsim:isds:login"))
    return render(
        request, "govsim/isds/index.html", {"person": person, "access": services.boxes_of(person)}
    )


def _access_or_404(person: Person, box_id: str) -> BoxAccess:
    for access in services.boxes_of(person):
        if access.box.box_id == box_id:
            return access
    raise Http404  # no access and no such box look the same


@unless_down(SYSTEM, api=False)
@never_cache
@require_safe
def box(request: HttpRequest, box_id: str) -> HttpResponse:
    """One box's received and sent messages, newest first."""
    person = services.signed_in_person(request)
    if person is None:
        return login_redirect(request, reverse("govsim:isds:login"))
    access = _access_or_404(person, box_id)
    related = ("sender_box", "recipient_box")
    context = {
        "person": person,
        "access": access,
        "received": access.box.received_messages.select_related(*related)[:SHOWN_MESSAGES],
        "sent": access.box.sent_messages.select_related(*related)[:SHOWN_MESSAGES],
    }
    return render(request, "govsim/isds/box.html", context)


@unless_down(SYSTEM, api=False)
@never_cache
@require_safe
def message(request: HttpRequest, pk: int) -> HttpResponse:
    """One message, to a person who acts for its sender's or its recipient's box."""
    person = services.signed_in_person(request)
    if person is None:
        return login_redirect(request, reverse("govsim:isds:login"))
    box_ids = [access.box_id for access in services.boxes_of(person)]
    found = get_object_or_404(
        Message.objects.select_related("sender_box", "recipient_box").filter(
            Q(sender_box__in=box_ids) | Q(recipient_box__in=box_ids)
        ),
        pk=pk,
    )
    just_sent = request.GET.get("sent") == "1" and found.sender_person_id == person.pk
    identity = _identity_shown(found)
    context = {
        "person": person,
        "message": found,
        "just_sent": just_sent,
        "identity": identity,
        # Who sent it, beyond the box, is the sending side's own knowledge; the recipient's
        # only when the sender published their identity.
        "sender_person_shown": identity is not None or found.sender_box_id in box_ids,
    }
    return render(request, "govsim/isds/message.html", context)


def _identity_shown(found: Message) -> dict | None:
    """The identity published with the message, for its page (None: not published)."""
    if not found.identity_published:
        return None
    identity = services.identity_item(found.sender_identity)
    birth_date, address = identity["birth_date"], identity["address"]
    return {
        "name": f"{identity['first_names']} {identity['last_name']}".strip(),
        "birth_date": datetime.date.fromisoformat(birth_date) if birth_date else None,
        # Written on one line as Czech addresses are (the NIA simulator's rule, the same data).
        "address": address_line(SimpleNamespace(**address)) if address else None,
    }


def _publish_chosen(request: HttpRequest) -> bool:
    """Whether "Publish my identity" is ticked: in the form sent, or pre-ticked by the link
    (`publish=1`). Anything else is unticked, so nothing is published by mistake."""
    data = request.POST if request.method == "POST" else request.GET
    return data.get(PUBLISH_FIELD) == "1"


def _invalid_concept(request: HttpRequest, form: ConceptForm, person: Person | None):
    return render(
        request,
        "govsim/isds/concept_invalid.html",
        {"form": form, "person": person},
        status=400,
    )


def _written_in(request: HttpRequest, person: Person) -> BoxAccess | None:
    """The box whose "New message" form the message posted here was written in, if any: it is
    sent from that box, and a problem with it is shown on that form."""
    box_id = request.POST.get("written_in", "")
    return next((a for a in services.boxes_of(person) if a.box.box_id == box_id), None)


def _concept_page(
    request: HttpRequest,
    person: Person,
    form: ConceptForm,
    token: str,
    status: int = 200,
    *,
    written_in: BoxAccess | None = None,
) -> HttpResponse:
    """The check-and-send page of a concept, or of a message written in the box `written_in`
    (then sent from that box only)."""
    access = [written_in] if written_in else services.boxes_of(person)
    chosen = request.POST.get("sender") or (access[0].box.box_id if access else "")
    context = {
        "person": person,
        "access": access,
        "chosen": chosen,
        "written_in": written_in,
        "recipient": form.recipient,
        "subject": form.cleaned_data["subject"],
        "text": form.cleaned_data["text"],
        "token": token,
        "publish": _publish_chosen(request),
        "errors": [*form.non_field_errors(), *form.errors.get("sender", [])],
    }
    return render(request, "govsim/isds/concept.html", context, status=status)


def _write_page(
    request: HttpRequest, person: Person, access: BoxAccess, form: WriteForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "govsim/isds/write.html",
        {"person": person, "access": access, "form": form},
        status=status,
    )


@unless_down(SYSTEM, api=False)
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def concept(request: HttpRequest) -> HttpResponse:
    """The prepared message from a link: sign in, choose the sending box, send."""
    person = services.signed_in_person(request)
    if request.method == "POST":
        return _send(request, person)
    form = ConceptForm(request.GET)
    if not form.is_valid():
        return _invalid_concept(request, form, person)
    if person is None:
        return login_redirect(request, reverse("govsim:isds:login"))
    return _concept_page(request, person, form, token=secrets.token_urlsafe(32))


def _send(request: HttpRequest, person: Person | None) -> HttpResponse:
    if person is None:
        # Signed out while the form was open: back to the same concept after signing in.
        fields = {name: request.POST.get(name, "") for name in CONCEPT_FIELDS}
        if _publish_chosen(request):
            fields[PUBLISH_FIELD] = "1"
        query = urlencode(fields)
        return login_redirect(request, reverse("govsim:isds:login"), f"{request.path}?{query}")
    form = SendForm(request.POST)
    valid = form.is_valid()
    written_in = _written_in(request, person)
    if any(name in form.errors for name in CONCEPT_FIELDS):
        if written_in is not None:
            # E.g. the recipient's box was made inaccessible meanwhile: say so on the form.
            retry = WriteForm(request.POST, sender=written_in.box.box_id)
            retry.is_valid()
            return _write_page(request, person, written_in, retry, status=400)
        return _invalid_concept(request, form, person)
    sender = request.POST.get("sender", "")
    if sender and not any(access.box.box_id == sender for access in services.boxes_of(person)):
        return render(
            request, "govsim/isds/forbidden.html", {"person": person, "box_id": sender}, status=403
        )
    if not valid:
        token = request.POST.get("token") or secrets.token_urlsafe(32)
        return _concept_page(
            request, person, form, token=token[:64], status=400, written_in=written_in
        )
    data = form.cleaned_data
    try:
        sent = services.send_message(
            person,
            sender,
            form.recipient,
            data["subject"],
            data["text"],
            token=data["token"],
            publish_identity=_publish_chosen(request),
        )
    except services.NotAllowed:
        return render(
            request, "govsim/isds/forbidden.html", {"person": person, "box_id": sender}, status=403
        )
    # The message page says "sent" (a flag in the address, not a flash message: in the embedded
    # stack the session's message queue is the portal's too).
    return redirect(f"{reverse('govsim:isds:message', args=[sent.pk])}?sent=1")


@unless_down(SYSTEM, api=False)
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def write(request: HttpRequest, box_id: str) -> HttpResponse:
    """A new message from one of the person's boxes: recipient box ID, subject and text; once
    they are valid, the same check-and-send page as a prepared message (nothing is sent here)."""
    person = services.signed_in_person(request)
    if person is None:
        # Back to this form after signing in (what a signed-out POST carried is not kept).
        return login_redirect(request, reverse("govsim:isds:login"), request.path)
    access = _access_or_404(person, box_id)
    if request.method != "POST":
        return _write_page(request, person, access, WriteForm(sender=box_id))
    if "edit" in request.POST:  # back from the check page to change it
        values = {name: request.POST.get(name, "") for name in CONCEPT_FIELDS}
        return _write_page(request, person, access, WriteForm(initial=values, sender=box_id))
    form = WriteForm(request.POST, sender=box_id)
    if not form.is_valid():
        return _write_page(request, person, access, form, status=400)
    return _concept_page(request, person, form, token=secrets.token_urlsafe(32), written_in=access)


@csrf_exempt  # an API called with a key, not by a browser: no CSRF page for a key-bearing client
@api_view(SYSTEM, methods=("GET", "POST"))
def api_messages(request: HttpRequest) -> JsonResponse:
    """GET: the messages received by the box whose API key is sent, after a cursor. POST: that
    box sends a message (`_api_send`)."""
    box = services.box_for_api_key(bearer_key(request))
    if box is None:
        raise ApiError("unauthorized", 401, "unknown API key")
    if request.method == "POST":
        return _api_send(request, box)
    queryset = Message.objects.filter(recipient_box=box).select_related(
        "sender_box", "recipient_box"
    )
    return feed_page(request, queryset, services.message_item)


def _api_send(request: HttpRequest, box: DataBox) -> JsonResponse:
    """A message from the box's own system: the body is the JSON object
    `{"recipient_box_id", "subject", "text", "reference"}`; the answer is the message's API item,
    201 when sent now, 200 when the box sent it earlier under the same reference."""
    body = _json_object(request)
    recipient_box_id = _string(body, "recipient_box_id", 1, 7).lower()
    if not re.fullmatch(BOX_ID_PATTERN, recipient_box_id):
        raise ApiError(
            "bad_request", 400, "recipient_box_id must be seven lowercase letters or digits"
        )
    subject = _string(body, "subject", 1, SUBJECT_MAX_LENGTH, printable=True)
    if not subject.strip():
        raise ApiError("bad_request", 400, "subject must not be blank")
    text = _string(body, "text", 0, TEXT_MAX_LENGTH)
    reference = _string(body, "reference", 1, REFERENCE_MAX_LENGTH, printable=True)
    # A retry answers what was sent the first time, even if the recipient has gone since.
    earlier = services.sent_with_reference(box, reference)
    if earlier is None:
        recipient = services.accessible_box(recipient_box_id)
        if recipient is None:
            raise ApiError(
                "recipient_not_found", 404, "there is no accessible data box with this ID"
            )
        if recipient.pk == box.pk:
            raise ApiError("bad_request", 400, "a data box cannot send a message to itself")
        sent, created = services.send_from_box(box, recipient, subject, text, reference=reference)
    else:
        sent, created = earlier, False
    return JsonResponse(services.message_item(sent), status=201 if created else 200)


def _too_large() -> ApiError:
    return ApiError("too_large", 413, f"the body must be at most {MAX_SEND_BYTES} bytes")


def _json_object(request: HttpRequest) -> dict:
    """The request's body, a JSON object of the SEND_FIELDS only."""
    # Refuse by the announced length before reading anything, and answer Django's own refusal
    # (DATA_UPLOAD_MAX_MEMORY_SIZE) in JSON too.
    try:
        announced = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ApiError("bad_request", 400, "invalid Content-Length") from None
    if announced > MAX_SEND_BYTES:
        raise _too_large()
    try:
        raw = request.body
    except RequestDataTooBig:
        raise _too_large() from None
    if len(raw) > MAX_SEND_BYTES:
        raise _too_large()
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError("bad_request", 400, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError("bad_request", 400, "the body must be a JSON object")
    if set(body) - set(SEND_FIELDS):
        raise ApiError("bad_request", 400, f"the only fields are {', '.join(SEND_FIELDS)}")
    return body


def _string(body: dict, name: str, low: int, high: int, *, printable: bool = False) -> str:
    """The string `body[name]`, `low` to `high` characters long, which the database can store
    (no NUL, no lone surrogate of a JSON escape) — and with `printable`, no control characters."""
    value = body.get(name)
    if not isinstance(value, str):
        raise ApiError("bad_request", 400, f"{name} is required and must be a string")
    if not low <= len(value) <= high:
        raise ApiError("bad_request", 400, f"{name} must be {low} to {high} characters long")
    if printable and not value.isprintable():
        raise ApiError("bad_request", 400, f"{name} must not contain control characters")
    if "\x00" in value or any("\ud800" <= char <= "\udfff" for char in value):
        raise ApiError("bad_request", 400, f"{name} must not contain NUL or lone surrogates")
    return value


@csrf_exempt
@api_view(SYSTEM, methods=("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"))
def api_unknown(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other path under the API: a JSON 404 rather than the HTML page of the site."""
    raise ApiError("not_found", 404, "no such endpoint")
