"""MojeID Klíč in the browser: setting the app up, removing and unblocking it, and the sign-in
step that waits for the app's approval. Thin: parse, call a flow or service, render; the rules
(re-authentication, who may unblock, rate limits) live in `flows` and `services`, and a refusal's
class picks its message here.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login

from accounts import flows as account_flows
from accounts import ratelimit
from accounts.adapter import get_adapter
from accounts.decorators import login_required
from accounts.forms import ReauthenticationForm
from accounts.models import User
from accounts.reauth import sensitive_change
from mojeid.qr import qr_svg

from .. import flows as key_flows
from ..adapter import get_adapter as twofactor_adapter
from ..exceptions import (
    KlicNotUsable,
    LinkedServiceUnavailable,
    NoOtherFactor,
    UnblockedRecently,
)
from ..internal.klic import qr_content
from . import flows, services

SETTINGS = "accounts:settings"
NOT_USABLE = gettext_lazy(
    "MojeID Klíč is blocked after five wrong PINs. Sign in another way, or unblock it."
)
TOO_MANY = gettext_lazy("Too many sign-in requests. Wait a few minutes and try again.")


def _settings_section() -> HttpResponse:
    return redirect(reverse(SETTINGS) + "#two-factor")


# --- setting the app up ---------------------------------------------------------------------------


@sensitive_change(gettext_lazy("You are setting up MojeID Klíč."))
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def set_up(request: HttpRequest) -> HttpResponse:
    """POST: a fresh activation code (it replaces any previous one), then this page again as a
    GET, which shows the code as QR code and as text while it is valid: a refresh or the way
    back from re-authentication keeps it."""
    if request.method == "POST":
        try:
            flows.start_set_up(request)
        except ratelimit.RateLimited:
            messages.error(request, _("Too many activation codes in an hour. Try again later."))
            return _settings_section()
        return redirect("twofactor:klic:set_up")
    shown = flows.shown_activation(request)
    if shown is None:
        if flows.pending_pairing(request):  # the app paired meanwhile: confirm it
            return redirect("twofactor:klic:confirm")
        messages.info(request, _("The activation code is no longer valid. Ask for a new one."))
        return _settings_section()
    code, activation = shown
    content = qr_content(code, request.build_absolute_uri("/").rstrip("/"))
    return render(
        request,
        "twofactor/klic/set_up.html",
        {
            "code": code,
            "qr_svg": qr_svg(content),
            "qr_content": content,
            "expires_at": activation.expires_at,
        },
    )


@login_required
@require_GET
def set_up_status(request: HttpRequest) -> JsonResponse:
    """Polled by the set-up page: has an app paired with the code it shows?"""
    if flows.pending_pairing(request):
        return JsonResponse({"paired": True, "redirect": reverse("twofactor:klic:confirm")})
    return JsonResponse({"paired": False})


@never_cache
@login_required
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest) -> HttpResponse:
    """The user signs in again to confirm that the paired app is theirs.

    Only the app that paired with the code this session showed, and only the one on the page
    (its id is posted back), is confirmed.
    """
    device = flows.pending_pairing(request)
    if device is None or (
        request.method == "POST" and request.POST.get("device") != str(device.device_id)
    ):
        messages.info(request, _("No paired app is waiting for confirmation."))
        return _settings_section()
    form = ReauthenticationForm(request.POST or None)
    second_factor = get_adapter().reauthentication_template(request, request.user)
    if request.method == "POST" and form.is_valid():
        if account_flows.reauthenticate(request, form.cleaned_data["password"], request.POST):
            if not flows.confirm_pairing(request, device):
                messages.info(request, _("No paired app is waiting for confirmation."))
                return _settings_section()
            otp_login(request, device)  # the app is now this session's proved second factor
            messages.success(
                request, _("MojeID Klíč is set. Sign-ins can now be approved in the app.")
            )
            return _settings_section()
        form.add_error("password", _("Wrong password or security key, or too many attempts."))
    return render(
        request,
        "twofactor/klic/confirm.html",
        {"form": form, "device": device, "second_factor_template": second_factor},
    )


@sensitive_change(gettext_lazy("You are removing MojeID Klíč."))
@login_required
@require_http_methods(["GET", "POST"])
def remove(request: HttpRequest) -> HttpResponse:
    """Remove the user's app (the flow asks for a fresh re-authentication). GET asks first: the
    settings page links here when the app is the last authenticator registered with NIA, and
    the page says that removing it removes the access to public administration services."""
    device = services.active_device(request.user)
    if request.method == "GET":
        if device is None:
            return _settings_section()
        return render(request, "twofactor/klic/remove.html", _removal_context(device))
    try:
        removed = flows.remove(request)
    except LinkedServiceUnavailable as problem:  # NIA cannot be told: nothing was removed
        context = {**_removal_context(device), "error": problem.message}
        return render(request, "twofactor/klic/remove.html", context, status=503)
    if removed:
        messages.success(request, _("MojeID Klíč is removed from your account."))
    return _settings_section()


def _removal_context(device) -> dict:
    return {
        "device": device,
        "ends_link": device is not None
        and twofactor_adapter().removal_ends_link(klic_device=device),
    }


@sensitive_change(gettext_lazy("You are unblocking MojeID Klíč."))
@login_required
@require_POST
def unblock(request: HttpRequest) -> HttpResponse:
    """Once a day, and only for a user who has just proved another second factor (`flows.unblock`
    decides; the refusal's class picks the message)."""
    try:
        unblocked = flows.unblock(request)
    except UnblockedRecently:
        messages.error(
            request,
            _("You can unblock MojeID Klíč yourself once every 24 hours. Contact MojeID support."),
        )
    except NoOtherFactor:
        messages.error(
            request, _("Without another second factor, only MojeID support can unblock the app.")
        )
    else:
        if unblocked:
            messages.success(request, _("MojeID Klíč is unblocked. The PIN tries start again."))
    return _settings_section()


# --- the second sign-in step ----------------------------------------------------------------------


@never_cache
def login_page(request: HttpRequest) -> HttpResponse:
    """The second sign-in step: its script asks the app and shows the number to pick."""
    pending = key_flows.pending_login(request)
    if pending is None:
        return redirect("accounts:login")
    user = pending[0]
    device = services.active_device(user)
    return render(
        request,
        "twofactor/klic/login.html",
        {
            "blocked": NOT_USABLE if device is None or device.blocked else "",
            "has_keys": user.security_keys.exists(),
        },
    )


@require_POST
def login_start(request: HttpRequest) -> JsonResponse:
    """Ask the app to approve this sign-in; answers the number the page must show."""
    pending = key_flows.pending_login(request)
    if pending is None:
        return JsonResponse({"error": _("Sign in with your password first.")}, status=403)
    return _ask(request, pending[0], purpose=flows.LOGIN, service=_("MojeID sign-in"))


def _ask(request: HttpRequest, user: User, *, purpose: str, service: str) -> JsonResponse:
    """Ask the app; the page shows the number to pick in it."""
    try:
        number = flows.ask(request, user, purpose=purpose, service=service)
    except KlicNotUsable:
        return JsonResponse({"error": str(NOT_USABLE)}, status=403)
    except ratelimit.RateLimited:
        return JsonResponse({"error": str(TOO_MANY)}, status=429)
    return JsonResponse({"status": "pending", "number": number})


@require_GET
def login_status(request: HttpRequest) -> JsonResponse:
    """Polled by the waiting page; the approved sign-in completes here, once."""
    pending = key_flows.pending_login(request)
    if pending is None:
        return JsonResponse(
            {"status": "gone", "message": _("Sign in with your password first.")}, status=403
        )
    user, next_url = pending
    state, device = flows.answer(request, user, purpose=flows.LOGIN)
    if device is not None:
        user.otp_device = device  # django-otp keeps it in the new session: is_verified()
        account_flows.login(request, user)
        return JsonResponse({"status": "approved", "redirect": next_url or reverse(SETTINGS)})
    return JsonResponse({"status": state, "message": str(STATE_MESSAGES.get(state, ""))})


# --- re-authentication with the app ---------------------------------------------------------------


@login_required
@require_POST
def reauth_start(request: HttpRequest) -> JsonResponse:
    """Ask the app to confirm a re-authentication; answers the number the page must show."""
    return _ask(
        request, request.user, purpose=flows.REAUTHENTICATE, service=_("MojeID: confirm it is you")
    )


@login_required
@require_GET
def reauth_status(request: HttpRequest) -> JsonResponse:
    """Reports an approval without taking it: the form takes it together with the password."""
    state, _device = flows.answer(request, request.user, purpose=flows.REAUTHENTICATE, take=False)
    return JsonResponse({"status": state, "message": str(STATE_MESSAGES.get(state, ""))})


STATE_MESSAGES = {
    "denied": gettext_lazy("The sign-in was denied in MojeID Klíč."),
    "expired": gettext_lazy("The request expired before it was approved. Try again."),
    "gone": gettext_lazy("This request is no longer valid. Try again."),
}
