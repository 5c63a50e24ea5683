"""Pages of the Access to public administration services section: thin, over `flows`."""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import ratelimit
from accounts.decorators import login_required
from accounts.reauth import raise_if_reauthentication_required, replayable_fields, sensitive_change
from mojeid.qr import qr_svg
from twofactor import services as twofactor_services

from . import completion, eobcanka, flows, services
from .clients import saml
from .exceptions import (
    AssertionRefused,
    IllegalTransition,
    NiaLinkError,
    NiaUnavailable,
    VerificationRefused,
)
from .internal import codes
from .internal.eligibility import MESSAGES, ROUTES
from .models import KeyVerification, Level, LinkState, Route

logger = logging.getLogger(__name__)

SECTION = "#public-administration"
#: The subject of the data-box message, as the help page names it.
DATA_BOX_SUBJECT = gettext_lazy("MojeID identity verification")
ENABLED = gettext_lazy(
    "The option to log in to public administration services using MojeID is now enabled."
)


def _section() -> HttpResponse:
    return redirect(reverse("accounts:settings") + SECTION)


def _said(problems: list[str]) -> list[str]:
    """What the codes of `eligibility.MESSAGES` say to the citizen."""
    return [str(MESSAGES[code]) for code in problems]


def _problems(request: HttpRequest, level: str) -> list[str]:
    return _said(services.request_problems(request.user, level, ROUTES[level][0]))


@never_cache
@login_required
def get_access(request: HttpRequest) -> HttpResponse:
    """Get access: choose the level of assurance; the page says what each needs and checks it."""
    link = services.open_link(request.user)
    if link is not None and link.state == LinkState.VERIFIED:
        return redirect("nia_link:review")  # the register answered: its data and Complete
    if link is not None:
        return _section()  # the section says where the request stands
    levels = [
        {"value": level.value, "label": level.label, "problems": _problems(request, level)}
        for level in Level
    ]
    return render(request, "nia_link/get_access.html", {"levels": levels})


@sensitive_change(gettext_lazy("You are requesting access to public administration services."))
@replayable_fields("route")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def choose_route(request: HttpRequest, level: str) -> HttpResponse:
    """Continue: after a fresh sign-in with password and second factor, choose how to prove the
    identity; the POST files the request."""
    if level not in Level.values:
        raise Http404
    if services.open_link(request.user) is not None:
        return _section()
    # Before the choice, as the help page shows it; the flow checks it again.
    raise_if_reauthentication_required(request, second_factor=True)
    error = None
    offered = ROUTES[Level(level)]
    if request.method == "POST":
        route = request.POST.get("route", "")
        if route not in offered:
            error = _("Choose how you want to verify your identity.")
        else:
            try:
                flows.start(request, level=level, route=route)
            except VerificationRefused as refused:
                return render(
                    request,
                    "nia_link/get_access.html",
                    {
                        "levels": [
                            {
                                "value": level,
                                "label": Level(level).label,
                                "problems": _said(refused.problems),
                            }
                        ]
                    },
                    status=409,
                )
            except IllegalTransition:
                return _section()  # a second click: the first one filed it
            if route == Route.EOBCANKA:
                return _to_nia(request)
            return redirect(
                "nia_link:data_box" if route == Route.DATA_BOX else "nia_link:show_request"
            )
    return render(
        request,
        "nia_link/choose_route.html",
        {"level": Level(level), "routes": [str(route) for route in offered], "error": error},
        status=400 if error else 200,
    )


@never_cache
@login_required
def show_request(request: HttpRequest) -> HttpResponse:
    """Show request: the printable request for the Czech POINT office (also for the phone)."""
    link = services.open_link(request.user)
    if link is None or link.state != LinkState.REQUESTED or link.route != Route.CZECH_POINT:
        return _section()
    return render(
        request,
        "nia_link/show_request.html",
        {"link": link, "qr_svg": qr_svg(codes.qr_content(link.request_code))},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def data_box(request: HttpRequest) -> HttpResponse:
    """Use data box: what will be sent and the consent; then on to the data box's prepared
    message to MojeID's box, with the request code in its text."""
    link = services.open_link(request.user)
    if link is None or link.state != LinkState.REQUESTED or link.route != Route.DATA_BOX:
        return _section()
    error = None
    if request.method == "POST":
        if request.POST.get("consent") == "yes":
            return redirect(_concept_url(link.request_code))
        error = _("Give your consent to continue to your data box.")
    return render(
        request,
        "nia_link/data_box.html",
        {
            "link": link,
            "subject": DATA_BOX_SUBJECT,
            "text": _message_text(link.request_code),
            "box_id": settings.MOJEID_DATA_BOX_ID,
            "error": error,
        },
        status=400 if error else 200,
    )


def _message_text(code: str) -> str:
    return _("I ask for the verification of my identity for MojeID. Request code: %(code)s") % {
        "code": code
    }


def _concept_url(code: str) -> str:
    """The data box's prepared message (`/isds/concept/` of the data box system), addressed to
    MojeID's box, the sender's identity to be published."""
    query = urlencode(
        {
            "to": settings.MOJEID_DATA_BOX_ID,
            "subject": str(DATA_BOX_SUBJECT),
            "text": _message_text(code),
            "publish": "1",
        }
    )
    return f"{settings.STATE_SYSTEMS_PUBLIC_URL}isds/concept/?{query}"


def _to_nia(request: HttpRequest) -> HttpResponse:
    try:
        return redirect(flows.verify_at_nia(request))
    except IllegalTransition:
        return _section()
    except NiaLinkError as problem:  # NIA's metadata cannot be read: it is down
        logger.warning("NIA cannot be reached for the eObčanka route: %s", problem)
        messages.error(request, str(NiaUnavailable().message))
        return _section()


@login_required
@require_POST
def verify_at_nia(request: HttpRequest) -> HttpResponse:
    """Verify (the eObčanka route): to NIA, to sign in with the ID card."""
    return _to_nia(request)


# NIA posts its answer from its own site: no CSRF token, and no session cookie either
# (SameSite=Lax); the request it answers says whose it is (`eobcanka.finish`).
@csrf_exempt
@never_cache
@require_POST
def saml_acs(request: HttpRequest) -> HttpResponse:
    """NIA's answer to the eObčanka route: the request is verified at once, or refused."""
    try:
        link = eobcanka.finish(request.POST.get("SAMLResponse", ""))
    except AssertionRefused as refused:
        logger.warning("NIA's answer refused: %s", refused)
        return render(request, "nia_link/nia_refused.html", {"reason": refused.reason}, status=400)
    except IllegalTransition:  # the request was cancelled while its owner was at NIA
        return _section()
    except NiaLinkError as problem:
        logger.warning("NIA could not be asked who signed in: %s", problem)
        return render(request, "nia_link/nia_refused.html", {"reason": "unavailable"}, status=503)
    if isinstance(link, KeyVerification):  # "Get" for a later key: on to Complete
        return redirect("nia_link:complete_key", pk=link.security_key_id)
    if link.state == LinkState.VERIFIED:
        return redirect("nia_link:review")
    return _section()  # failed: the section says why


@require_safe
def saml_metadata(request: HttpRequest) -> HttpResponse:
    """The portal's SAML metadata as NIA's service provider."""
    return HttpResponse(
        saml.service_provider_metadata(), content_type="application/samlmetadata+xml"
    )


@sensitive_change(gettext_lazy("You are removing your access to public administration services."))
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def remove_access(request: HttpRequest) -> HttpResponse:
    """Set → Remove access: what it means, and (after a fresh sign-in with password and second
    factor) the removal; every authenticator registered with NIA is ended there."""
    link = services.open_link(request.user)
    if link is None or link.state != LinkState.ACTIVE:
        return _section()
    error = None
    if request.method == "POST":
        try:
            flows.remove_access(request)
        except NiaUnavailable as problem:
            error = problem.message
        else:
            messages.success(
                request, _("Your access to public administration services is removed.")
            )
            return _section()
    return render(
        request,
        "nia_link/remove_access.html",
        {"link": link, "error": error},
        status=503 if error else 200,
    )


@login_required
@require_POST
def cancel(request: HttpRequest) -> HttpResponse:
    """Cancel request."""
    try:
        cancelled = flows.cancel(request)
    except IllegalTransition:
        messages.error(request, _("This access can no longer be cancelled here."))
        return _section()
    if cancelled:
        messages.success(request, _("Your request has been cancelled."))
    return _section()


FIELD_LABELS = {
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "birth_date": gettext_lazy("Date of birth"),
    "street": gettext_lazy("Street and number"),
    "city": gettext_lazy("City"),
    "postal_code": gettext_lazy("Postal code"),
}


@sensitive_change(gettext_lazy("You are enabling access to public administration services."))
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest) -> HttpResponse:
    """The register's data beside the profile's (differences marked), and Complete."""
    link = services.open_link(request.user)
    if link is None or link.state != LinkState.VERIFIED:
        return _section()
    if request.method == "POST":
        try:
            flows.complete(request)
        except NiaUnavailable as problem:
            messages.error(request, str(problem.message))
            return _section()
        except VerificationRefused as refused:
            for problem in _said(refused.problems):
                messages.error(request, problem)
            return _section()
        except IllegalTransition:
            return _section()  # a second click: the first one completes it
        messages.success(request, ENABLED)
        return _section()
    register = completion.profile_data(link.register_data)
    profile = request.user.profile
    rows = []
    for name, label in FIELD_LABELS.items():
        current = getattr(profile, name)
        current = current.isoformat() if hasattr(current, "isoformat") else (current or "")
        rows.append(
            {
                "label": label,
                "register": register[name],
                "profile": current,
                "differs": str(register[name]).strip() != str(current).strip(),
            }
        )
    return render(request, "nia_link/review.html", {"link": link, "rows": rows})


# --- "Get" for a later security key -----------------------------------------------------------

KEYS_SECTION = "#two-factor"
EXISTING_METHOD = "existing"


def _own_key(request: HttpRequest, pk: int):
    key = request.user.security_keys.filter(pk=pk).first()
    if key is None:
        raise Http404
    return key


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def get_key(request: HttpRequest, pk: int) -> HttpResponse:
    """Get, in the key list: the identity is verified again for this key — Using an existing
    authentication method, then Verify — before Complete registers it with NIA."""
    key = _own_key(request, pk)
    link = services.open_link(request.user)
    if link is None or link.state != LinkState.ACTIVE:
        return redirect("nia_link:get_access")  # no access yet: the first time goes there
    access = twofactor_services.key_access(key)
    raisable = access == "active" and completion.can_raise(key)
    error = None
    if request.method == "POST" and (access == "get" or raisable):
        if request.POST.get("route") != EXISTING_METHOD:
            error = _("Choose how you want to verify your identity.")
        else:
            try:
                return redirect(
                    flows.verify_key_at_nia(request, key, level="high" if raisable else None)
                )
            except ratelimit.RateLimited:
                error = _("Too many attempts. Try again later.")
            except IllegalTransition:
                return redirect(reverse("accounts:settings") + KEYS_SECTION)
            except NiaLinkError as problem:
                logger.warning("NIA cannot be reached for Get: %s", problem)
                error = str(NiaUnavailable().message)
    return render(
        request,
        "nia_link/get_key.html",
        {"key": key, "link": link, "access": access, "raisable": raisable, "error": error},
        status=400 if error else 200,
    )


@sensitive_change(gettext_lazy("You are enabling access to public administration services."))
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def complete_key(request: HttpRequest, pk: int) -> HttpResponse:
    """After NIA verified the identity for the key: Complete registers it with NIA."""
    key = _own_key(request, pk)
    verification = completion.key_verification(request.user, key)
    if verification is None:
        return redirect("nia_link:get_key", pk=key.pk)
    if request.method == "POST":
        try:
            flows.complete_key(request, key)
        except ratelimit.RateLimited:
            messages.error(request, _("Too many attempts. Try again later."))
        except NiaUnavailable as problem:
            messages.error(request, str(problem.message))
        except (IllegalTransition, VerificationRefused):
            messages.error(
                request, _("This key cannot get access to public administration services.")
            )
        else:
            messages.success(
                request,
                _("The key %(name)s can now be used to access public administration services.")
                % {"name": key.name},
            )
        return redirect(reverse("accounts:settings") + KEYS_SECTION)
    return render(request, "nia_link/complete_key.html", {"key": key, "verification": verification})
