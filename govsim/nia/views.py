"""The pages of the simulated NIA: its own page, metadata, the SSO endpoint, and the login a
citizen goes through — choice of means, eObčanka (card + PIN), consent — ending in an
auto-submitting HTTP-POST form that carries the signed SAMLResponse to the service.

An accepted AuthnRequest becomes a "login" kept in the session under a random id; each step reads
it back, so the service, the request id and the address of the answer never come from the form.
Each AuthnRequest is answered once: the first answer claims (service, request ID) in the cache, so
a replayed request is refused and of two answers at once (a double click, two tabs started from
one request) only the first is sent.
"""

import hashlib
import json
import secrets
import time

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from govsim.outage import unless_down
from govsim.rob.models import Citizen, IdDocument

from . import backchannel, broker, eidas, idp, services
from .forms import EobcankaForm
from .models import AuthenticatorRegistration, ServiceProvider

SESSION_KEY = "sim_nia_logins"
LOGIN_SECONDS = 15 * 60  # an AuthnRequest left unanswered longer than this is forgotten
MAX_LOGINS = 5  # pending logins per browser session (several tabs); the oldest go first
LEVEL = eidas.LOA_HIGH  # what an eObčanka login is worth
RECENT_REGISTRATIONS = 20  # authenticator registrations listed on NIA's own page
# How long an answered request is remembered: a request is accepted until REQUEST_MAX_AGE + skew
# after its IssueInstant and answered no sooner than skew before it, and a login started from it
# may stay pending LOGIN_SECONDS after it was accepted.
ANSWERED_SECONDS = idp.REQUEST_MAX_AGE_SECONDS + 2 * idp.CLOCK_SKEW_SECONDS + LOGIN_SECONDS

ATTRIBUTE_LABELS = {
    "PersonIdentifier": gettext_lazy("Identifier of the person for this service"),
    "CurrentGivenName": gettext_lazy("Given name"),
    "CurrentFamilyName": gettext_lazy("Family name"),
    "DateOfBirth": gettext_lazy("Date of birth"),
    "PlaceOfBirth": gettext_lazy("Place of birth"),
    "CurrentAddress": gettext_lazy("Address of residence"),
}
DECEASED = gettext_lazy("The base register of inhabitants records this person as deceased.")
LEVEL_LABELS = {
    eidas.LOA_LOW: gettext_lazy("low"),
    eidas.LOA_SUBSTANTIAL: gettext_lazy("substantial"),
    eidas.LOA_HIGH: gettext_lazy("high"),
}


# --- Pending logins in the session ----------------------------------------------------------


def _logins(request: HttpRequest) -> dict:
    now = time.time()
    logins = {
        key: state
        for key, state in request.session.get(SESSION_KEY, {}).items()
        if now - state["created"] < LOGIN_SECONDS
    }
    return logins


def _save(request: HttpRequest, logins: dict) -> None:
    newest = sorted(logins.items(), key=lambda item: item[1]["created"])[-MAX_LOGINS:]
    request.session[SESSION_KEY] = dict(newest)


def _start(request: HttpRequest, pending: idp.PendingLogin, **extra) -> str:
    login_id = secrets.token_urlsafe(16)
    logins = _logins(request)
    logins[login_id] = {"pending": pending.as_dict(), "created": time.time(), **extra}
    _save(request, logins)
    return login_id


def _update(request: HttpRequest, login_id: str, **changes) -> None:
    logins = _logins(request)
    if login_id in logins:  # it may have expired since it was read
        logins[login_id].update(changes)
        _save(request, logins)


def _finish(request: HttpRequest, login_id: str) -> None:
    logins = _logins(request)
    logins.pop(login_id, None)
    _save(request, logins)


class Login:
    """A pending login read back from the session."""

    def __init__(self, login_id: str, state: dict, service: ServiceProvider):
        self.id, self.state, self.service = login_id, state, service
        self.pending = idp.PendingLogin(**state["pending"])


def _login(request: HttpRequest, login_id: str) -> Login | None:
    state = _logins(request).get(login_id)
    if state is None:
        return None
    try:
        service = ServiceProvider.objects.filter(
            pk=state["pending"]["service_id"], active=True
        ).first()
        return Login(login_id, state, service) if service else None
    except (KeyError, TypeError):  # a login stored by an older version of this code
        return None


def _expired(request: HttpRequest) -> HttpResponse:
    return _problem(
        request,
        _("This login has expired"),
        _(
            "Too much time has passed, or the login was finished already. "
            "Start again at the service."
        ),
        status=410,
    )


def _problem(request: HttpRequest, title: str, text: str, *, status: int) -> HttpResponse:
    return render(request, "govsim/nia/problem.html", {"title": title, "text": text}, status=status)


def _invalid_request(request: HttpRequest) -> HttpResponse:
    return _problem(
        request,
        _("Invalid login request"),
        _(
            "The service sent a login request NIA cannot accept. "
            "Return to the service and try again."
        ),
        status=400,
    )


# --- One answer per AuthnRequest ------------------------------------------------------------


def _answered_key(service: ServiceProvider, request_id: str) -> str:
    pair = json.dumps([service.entity_id, request_id])
    return "sim_nia:answered:" + hashlib.sha256(pair.encode("utf-8")).hexdigest()


def _was_answered(service: ServiceProvider, request_id: str) -> bool:
    return cache.get(_answered_key(service, request_id)) is not None


def _claim_answer(login: Login) -> bool:
    """Take the right to answer the login's request, atomically: False if it was taken already
    (by this login in a concurrent request, or by another login started from the same request)."""
    key = _answered_key(login.service, login.pending.request_id)
    return cache.add(key, login.id, ANSWERED_SECONDS)


def _release_answer(login: Login) -> None:
    """Give the claim back when no answer could be made (nothing was sent to the service)."""
    cache.delete(_answered_key(login.service, login.pending.request_id))


def _answered_already(request: HttpRequest, login: Login) -> HttpResponse:
    _finish(request, login.id)
    return _expired(request)


def _post_to_service(
    request: HttpRequest, login: Login, saml_response: str, *, status: int = 200
) -> HttpResponse:
    """The page that carries the SAMLResponse to the service (HTTP-POST binding)."""
    _finish(request, login.id)
    return render(
        request,
        "govsim/nia/post.html",
        {
            "service": login.service,
            "acs_url": login.pending.acs_url,
            "saml_response": saml_response,
            "relay_state": login.pending.relay_state,
        },
        status=status,
    )


def _answer_error(request: HttpRequest, login: Login, status: str, message: str) -> HttpResponse:
    if not _claim_answer(login):
        return _answered_already(request, login)
    saml_response = idp.error_response(request, login.service, login.pending, status, message)
    return _post_to_service(request, login, saml_response)


# --- NIA's own page --------------------------------------------------------------------------


@require_safe
@unless_down("nia", api=False)
def home(request: HttpRequest) -> HttpResponse:
    """What the simulated NIA is and where its endpoints are; a sign-in starts at a service. The
    authenticators providers registered lately are listed by their own identifiers, never with
    the person's name or BSI."""
    services_here = ServiceProvider.objects.filter(active=True).order_by("name")
    registrations = AuthenticatorRegistration.objects.select_related("service_provider").order_by(
        "-created_at", "-pk"
    )[:RECENT_REGISTRATIONS]
    return render(
        request,
        "govsim/nia/home.html",
        {
            "services": services_here,
            "registrations": registrations,
            "operations": list(backchannel.OPERATIONS),
        },
    )


# --- SAML endpoints -------------------------------------------------------------------------


@require_safe
@unless_down("nia", api=False)
def metadata(request: HttpRequest) -> HttpResponse:
    """The IdP's SAML metadata (entity ID, SSO endpoints, signing certificate)."""
    return HttpResponse(idp.metadata_xml(request), content_type="application/samlmetadata+xml")


@csrf_exempt  # a service posts the AuthnRequest from its own pages (HTTP-POST binding)
@never_cache
@require_http_methods(["GET", "POST"])
@unless_down("nia", api=False)
def single_sign_on(request: HttpRequest) -> HttpResponse:
    """Receive an AuthnRequest (HTTP-Redirect or HTTP-POST) and start the login."""
    data = request.GET if request.method == "GET" else request.POST
    binding = BINDING_HTTP_REDIRECT if request.method == "GET" else BINDING_HTTP_POST
    saml_request = data.get("SAMLRequest", "")
    if not saml_request:
        return _problem(
            request,
            _("No login request"),
            _("This address expects a SAML authentication request from a service."),
            status=400,
        )
    try:
        service, pending = idp.accept_request(
            request, saml_request, binding, data.get("RelayState", "")
        )
    except idp.UnknownServiceProvider as problem:
        return render(
            request,
            "govsim/nia/unknown_service.html",
            {"entity_id": problem.entity_id},
            status=403,
        )
    except idp.SamlRequestError:
        return _invalid_request(request)
    if _was_answered(service, pending.request_id):  # a replay
        return _invalid_request(request)
    try:
        possible = eidas.satisfies(LEVEL, pending.levels, pending.comparison)
    except eidas.UnknownLevel:
        possible = False
    if not possible:
        login_id = _start(request, pending, refusal=idp.STATUS_NO_AUTHN_CONTEXT)
        return render(
            request,
            "govsim/nia/refused.html",
            {
                "login_id": login_id,
                "service": service,
                "message": _("The service asks for a level of assurance NIA cannot give."),
                "can_retry": False,
            },
            status=403,
        )
    login_id = _start(request, pending)
    if pending.is_passive:
        # Every login here needs the card: a passive one (no pages shown) is impossible.
        login = _login(request, login_id)
        return _answer_error(
            request, login, idp.STATUS_NO_PASSIVE, "passive authentication is not supported"
        )
    return redirect("govsim:nia:choose", login_id=login_id)


# --- The login ------------------------------------------------------------------------------


@never_cache
@require_safe
@unless_down("nia", api=False)
def choose_means(request: HttpRequest, login_id: str) -> HttpResponse:
    """The choice of identity means; the simulator offers the eObčanka only."""
    login = _login(request, login_id)
    if login is None:
        return _expired(request)
    return render(
        request,
        "govsim/nia/choose.html",
        {
            "login_id": login.id,
            "service": login.service,
            "levels": [LEVEL_LABELS.get(level, level) for level in login.pending.levels],
            # MojeID too when MojeID itself asks (a later key's "Get": its citizen signs in at
            # NIA with MojeID and a key registered already).
            "providers": broker.identity_providers(),
        },
    )


@never_cache
@require_POST
@unless_down("nia", api=False)
def via_provider(request: HttpRequest, login_id: str, provider_id: int) -> HttpResponse:
    """The citizen chose a qualified identity provider: to it, with NIA's own AuthnRequest for
    the level the service asked for (see `broker`)."""
    login = _login(request, login_id)
    if login is None:
        return _expired(request)
    provider = next(
        (found for found in broker.identity_providers() if found.pk == provider_id), None
    )
    if provider is None:
        return _problem(
            request,
            _("This identity provider is not available"),
            _("Choose another way to prove your identity."),
            status=404,
        )
    try:
        location, request_id, saml_request = broker.authn_request(
            request, provider, login.service, login.pending.levels, login.pending.comparison
        )
    except broker.BrokerRefused:
        return _problem(
            request,
            _("This identity provider is not available"),
            _("Choose another way to prove your identity."),
            status=503,
        )
    _update(
        request,
        login_id,
        broker={"provider": provider.pk, "request_id": request_id},
        card=None,
        citizen=None,
    )
    return render(
        request,
        "govsim/nia/to_provider.html",
        {
            "provider": provider,
            "sso_url": location,
            "saml_request": saml_request,
            "relay_state": login_id,
        },
    )


@csrf_exempt  # the identity provider posts its answer from its own site
@never_cache
@require_POST
@unless_down("nia", api=False)
def broker_acs(request: HttpRequest) -> HttpResponse:
    """The identity provider's answer. The login is named by the RelayState NIA sent; its
    request is claimed once (a second post of the answer finds nothing). Accepted: on to the
    consent page; refused: the service gets a SAML error Response saying why."""
    login = _login(request, request.POST.get("RelayState", "")[:100])
    if login is None:
        return _expired(request)
    brokered = login.state.get("broker") or {}
    provider = ServiceProvider.objects.filter(pk=brokered.get("provider"), active=True).first()
    if provider is None or not brokered.get("request_id"):
        return _expired(request)
    _update(request, login.id, broker=None)  # the claim: this request is answered once
    try:
        accepted = broker.read_response(
            request,
            provider,
            request.POST.get("SAMLResponse", ""),
            brokered["request_id"],
            login.pending.levels,
            login.pending.comparison,
        )
    except broker.BrokerRefused as refused:
        return _answer_error(request, login, refused.status, refused.message)
    _update(
        request,
        login.id,
        citizen=accepted.citizen.pk,
        level=accepted.level,
        means=provider.name,
        refusal=None,
    )
    return redirect("govsim:nia:consent", login_id=login.id)


@require_safe
@unless_down("nia", api=False)
def broker_metadata(request: HttpRequest) -> HttpResponse:
    """NIA's SAML metadata as the service provider of qualified identity providers."""
    return HttpResponse(broker.metadata_xml(request), content_type="application/samlmetadata+xml")


@never_cache
@require_http_methods(["GET", "POST"])
@unless_down("nia", api=False)
def eobcanka(request: HttpRequest, login_id: str) -> HttpResponse:
    """The card in the reader and its PIN."""
    login = _login(request, login_id)
    if login is None:
        return _expired(request)
    form = EobcankaForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            card = services.find_card(form.cleaned_data["card_number"])
            services.verify_pin(card, form.cleaned_data["pin"])
        except services.CardRefused as problem:
            _update(request, login_id, refusal=idp.STATUS_AUTHN_FAILED)
            return _card_refused(request, login, problem)
        except services.CardProblem as problem:
            form.add_error(None, problem.message)
        else:
            _update(
                request, login_id, card=card.pk, citizen=card.citizen_id, level=LEVEL, refusal=None
            )
            return redirect("govsim:nia:consent", login_id=login_id)
    return render(
        request,
        "govsim/nia/eobcanka.html",
        {
            "login_id": login.id,
            "service": login.service,
            "form": form,
            "cards": services.demo_cards(),
            "today": timezone.localdate(),
        },
        status=400 if form.errors else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@unless_down("nia", api=False)
def consent(request: HttpRequest, login_id: str) -> HttpResponse:
    """What the service will receive; with the citizen's consent, the answer to the service at
    the level the login proved (the eObčanka's, or what the identity provider asserted)."""
    login = _login(request, login_id)
    if login is None:
        return _expired(request)
    card = (
        IdDocument.objects.filter(pk=login.state.get("card")).select_related("citizen").first()
        if login.state.get("card")
        else None
    )
    citizen = (
        Citizen.objects.filter(pk=login.state.get("citizen")).first()
        if login.state.get("citizen") and login.state.get("level") in eidas.LEVELS
        else None
    )
    if citizen is None or (card is None and not login.state.get("means")):
        return redirect("govsim:nia:choose", login_id=login_id)
    if request.method == "POST" and request.POST.get("decision") != "consent":
        return _answer_error(
            request, login, idp.STATUS_REQUEST_DENIED, "the person did not consent"
        )
    try:
        # Again: the card may have been blocked or deactivated, or its holder recorded deceased,
        # since its PIN was checked (or the provider signed them in).
        if card is not None:
            services.check_card_usable(card)
        elif citizen.deceased:
            raise services.CardRefused("deceased", DECEASED)
    except services.CardRefused as problem:
        _update(request, login_id, card=None, citizen=None, refusal=idp.STATUS_AUTHN_FAILED)
        return _card_refused(request, login, problem)
    if request.method == "POST":
        if not _claim_answer(login):
            return _answered_already(request, login)
        attributes = eidas.person_attributes(
            citizen, services.give_pseudonym(login.service, citizen)
        )
        try:
            saml_response = idp.authn_response(
                request, login.service, login.pending, attributes, login.state["level"]
            )
        except idp.CannotEncrypt:
            _release_answer(login)
            return _problem(
                request,
                _("The service cannot receive the answer"),
                _(
                    "The service wants its answers encrypted "
                    "but has registered no certificate for it."
                ),
                status=409,
            )
        return _post_to_service(request, login, saml_response)
    attributes = eidas.person_attributes(
        citizen, services.person_identifier(login.service, citizen)
    )
    # Shown as a person reads them: the date in the page's language, the address on one line.
    readable = {
        "DateOfBirth": citizen.birth_date,
        "CurrentAddress": eidas.address_line(citizen),
    }
    shown = [
        (ATTRIBUTE_LABELS[name], readable.get(name, value)) for name, value in attributes.items()
    ]
    return render(
        request,
        "govsim/nia/consent.html",
        {
            "login_id": login.id,
            "service": login.service,
            "attributes": shown,
            "card": card,
            "means": login.state.get("means"),
            "level": LEVEL_LABELS.get(login.state["level"]),
        },
    )


@never_cache
@require_POST
@unless_down("nia", api=False)
def cancel(request: HttpRequest, login_id: str) -> HttpResponse:
    """Back to the service without an identity: a SAML error Response tells it why."""
    login = _login(request, login_id)
    if login is None:
        return _expired(request)
    status = login.state.get("refusal") or idp.STATUS_REQUEST_DENIED
    messages = {
        idp.STATUS_AUTHN_FAILED: "the identity could not be established",
        idp.STATUS_NO_AUTHN_CONTEXT: "the requested level of assurance is not available",
        idp.STATUS_REQUEST_DENIED: "the person cancelled the login",
    }
    return _answer_error(request, login, status, messages.get(status, "the login ended"))


def _card_refused(request: HttpRequest, login, problem) -> HttpResponse:
    """The card cannot sign in: say why; the user may try another card or return."""
    return render(
        request,
        "govsim/nia/refused.html",
        {
            "login_id": login.id,
            "service": login.service,
            "message": problem.message,
            "can_retry": True,
        },
        status=403,
    )
