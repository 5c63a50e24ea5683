"""The pages of the demo service "Portál občana (simulace)": its home page with the sign-in
through NIA, the assertion consumer service that reads NIA's answer, its SAML metadata, and
signing out.

The sign-in sends a signed AuthnRequest by the HTTP-POST binding (an auto-submitting form) and
remembers its ID in the session; the service and NIA are on one origin, so the session cookie
comes back with NIA's answer. The answer is shown as a landing page (200), a refusal NIA signed
as an explanation (403), anything else as an invalid answer (400) — never an error 500.
"""

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from govsim.nia import eidas

from . import saml, services
from .forms import SignInForm

logger = logging.getLogger(__name__)

STATUS_PREFIX = "urn:oasis:names:tc:SAML:2.0:status:"
LEVEL_LABELS = {
    eidas.LOA_LOW: gettext_lazy("low"),
    eidas.LOA_SUBSTANTIAL: gettext_lazy("substantial"),
    eidas.LOA_HIGH: gettext_lazy("high"),
}
# What a second-level status of NIA's error Response means to the person, in plain words.
REFUSALS = {
    "AuthnFailed": gettext_lazy("Your identity could not be verified."),
    "RequestDenied": gettext_lazy("The sign-in was cancelled or refused."),
    "NoAuthnContext": gettext_lazy(
        "The identity provider you chose cannot sign you in at the level of assurance this "
        "service asks for ({level})."
    ),
    "NoPassive": gettext_lazy(
        "You cannot be signed in without seeing the identity provider's pages. Sign in again."
    ),
    "NoAvailableIDP": gettext_lazy(
        "No identity provider is available to sign you in right now. Try again later."
    ),
    "UnknownPrincipal": gettext_lazy("The identity provider does not know you."),
}


def level_label(level: str) -> str:
    """An eIDAS level in words ("substantial", "high"); the URI itself if it is no level."""
    return str(LEVEL_LABELS.get(level, level))


@never_cache
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """The demo service: what it is, who is signed in, and the sign-in through NIA; the posted
    form sends the signed AuthnRequest to NIA's single sign-on (HTTP-POST binding)."""
    form = SignInForm(request.POST or None)
    service = services.ensure_registered(request)
    if request.method == "POST" and form.is_valid():
        outgoing = saml.authn_request(request, form.level_uri)
        services.remember_request(request, outgoing.id, outgoing.level)
        return render(
            request,
            "govsim/sep/post.html",
            {"sso_url": outgoing.sso_url, "saml_request": outgoing.saml_request},
        )
    return render(
        request,
        "govsim/sep/home.html",
        {"form": form, "person": _shown(services.signed_in(request)), "service": service},
        status=400 if form.errors else 200,
    )


def _shown(person: saml.SignedIn | None) -> dict | None:
    if person is None:
        return None
    return {"person": person, "level": level_label(person.level)}


@csrf_exempt  # NIA posts the answer from its own pages (HTTP-POST binding)
@never_cache
@require_POST
def acs(request: HttpRequest) -> HttpResponse:
    """NIA's answer: the landing page when it signs somebody in, else why not."""
    saml_response = request.POST.get("SAMLResponse", "")
    request_id = ""
    try:
        request_id = saml.answered_request_id(saml_response)
        level = services.pending_level(request, request_id)
        if level is None:
            raise saml.AnswerInvalid("no request of this browser waits for this answer")
        person = saml.read_answer(request, saml_response, request_id, level)
    except saml.AnswerRefused as refusal:
        if not services.claim_answer(request, request_id):
            return _invalid(request, "the request was answered already")
        return _refused(request, refusal, level)
    except saml.AnswerInvalid as problem:
        return _invalid(request, str(problem))
    if not services.claim_answer(request, request_id):
        return _invalid(request, "the request was answered already")
    services.sign_in(request, person)
    return render(request, "govsim/sep/landing.html", {"signed_in": _shown(person)})


def _invalid(request: HttpRequest, reason: str) -> HttpResponse:
    logger.info("The demo service refused an answer from NIA: %s", reason)
    return render(request, "govsim/sep/invalid.html", status=400)


def _refused(request: HttpRequest, refusal: saml.AnswerRefused, level: str) -> HttpResponse:
    code = refusal.status.removeprefix(STATUS_PREFIX)
    text = REFUSALS.get(code)
    explanation = (
        str(text).format(level=level_label(level))
        if text
        else _("The identity provider did not sign you in.")
    )
    return render(
        request,
        "govsim/sep/refused.html",
        {"explanation": explanation, "code": code, "detail": refusal.message},
        status=403,
    )


@require_safe
def metadata(request: HttpRequest) -> HttpResponse:
    """The service's SAML metadata (entity ID, assertion consumer service, certificate)."""
    return HttpResponse(saml.metadata_xml(request), content_type="application/samlmetadata+xml")


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Sign out of the demo service (not of NIA: it keeps no sign-in of its own)."""
    services.sign_out(request)
    return redirect("govsim:sep:home")
