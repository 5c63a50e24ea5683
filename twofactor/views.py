"""Security-key pages and the JSON endpoints their script talks to. Thin: parse, call, answer."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from accounts import flows as account_flows
from accounts.decorators import login_required
from accounts.reauth import (
    ReauthenticationRequired,
    raise_if_reauthentication_required,
    replayable_fields,
    sensitive_change,
)

from . import flows, services
from .adapter import get_adapter
from .exceptions import LinkedServiceUnavailable, TooManyKeys
from .http import BadBody, json_body
from .internal.webauthn import CeremonyError
from .models import SecurityKey


def _too_many_keys() -> str:
    return _(
        "Your account has the most security keys it can hold (%(count)d). Remove one you no "
        "longer use to add another."
    ) % {"count": services.MAX_KEYS}


def _error(message, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": str(message)}, status=status)


def _reauthenticate() -> JsonResponse:
    return JsonResponse(
        {
            "error": _("Confirm your password first."),
            "redirect": reverse("accounts:reauthenticate"),
        },
        status=403,
    )


@sensitive_change(gettext_lazy("You are adding a security key."))
@never_cache
@login_required
def add_key(request: HttpRequest) -> HttpResponse:
    raise_if_reauthentication_required(request)
    full = not services.has_room_for_a_key(request.user)
    return render(request, "twofactor/add_key.html", {"full": _too_many_keys() if full else ""})


@login_required
@require_POST
def add_key_options(request: HttpRequest) -> JsonResponse:
    try:
        return JsonResponse({"publicKey": flows.registration_options(request)})
    except ReauthenticationRequired:
        return _reauthenticate()
    except TooManyKeys:
        return _error(_too_many_keys(), status=409)


@login_required
@require_POST
def add_key_verify(request: HttpRequest) -> JsonResponse:
    try:
        data = json_body(request)
    except BadBody as problem:
        return _error(flows.BAD_KEY_DATA, status=problem.status)
    try:
        # Checked before the ceremony too, so a bad name does not spend the challenge.
        name = services.clean_key_name(data.get("name"))
    except ValueError as problem:
        return _error(problem)
    public_administration = data.get("use_for_public_administration", True)
    if not isinstance(public_administration, bool):  # "false" is a string, and truthy
        return _error(flows.BAD_KEY_DATA)
    try:
        key = flows.register(
            request,
            data.get("credential"),
            name=name,
            use_for_public_administration=public_administration,
        )
    except ReauthenticationRequired:
        return _reauthenticate()
    except TooManyKeys:
        return _error(_too_many_keys(), status=409)
    except CeremonyError:
        return _error(flows.BAD_KEY_DATA)
    # The key has just proved itself in this session: the session counts as verified by it.
    otp_login(request, key)
    messages.success(request, _("The security key is added."))
    return JsonResponse({"redirect": reverse("twofactor:key_detail", args=[key.pk])})


@sensitive_change(gettext_lazy("You are renaming a security key."))
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@replayable_fields("name")
def key_detail(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(SecurityKey, pk=pk, user=request.user)
    error = None
    if request.method == "POST":
        try:
            flows.rename(request, key, request.POST.get("name"))
        except ValueError as problem:
            error = str(problem)
        else:
            messages.success(request, _("The key is renamed."))
            return redirect("twofactor:key_detail", pk=key.pk)
    return render(request, "twofactor/key_detail.html", {"key": key, "error": error})


@sensitive_change(gettext_lazy("You are removing a security key."))
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def remove_key(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks "remove this key?"; the POST of that page removes it (after re-authentication)."""
    key = get_object_or_404(SecurityKey, pk=pk, user=request.user)
    context = {"key": key, "ends_link": get_adapter().removal_ends_link(security_key=key)}
    if request.method == "GET":
        return render(request, "twofactor/remove_key.html", context)
    try:
        flows.remove(request, key)
    except LinkedServiceUnavailable as problem:  # NIA cannot be told: nothing was removed
        return render(
            request, "twofactor/remove_key.html", {**context, "error": problem.message}, status=503
        )
    messages.success(request, _("The security key is removed."))
    return redirect(reverse("accounts:settings") + "#two-factor")


@login_required
@require_POST
def reauth_key_options(request: HttpRequest) -> JsonResponse:
    """The challenge for the key half of re-authentication (the form posts the answer)."""
    try:
        options = flows.authentication_options(request, request.user, ceremony=flows.REAUTHENTICATE)
    except CeremonyError:
        return _error(flows.ALL_KEYS_BLOCKED, status=403)
    return JsonResponse({"publicKey": options})


# --- the second login step ------------------------------------------------------------------------


@never_cache
def login_key(request: HttpRequest) -> HttpResponse:
    pending = flows.pending_login(request)
    if pending is None:
        return redirect("accounts:login")
    user = pending[0]
    blocked = not flows.usable_keys(user).exists()
    return render(
        request,
        "twofactor/login_key.html",
        {
            "blocked": flows.ALL_KEYS_BLOCKED if blocked else "",
            "has_klic": user.klic_devices.filter(confirmed=True).exists(),
        },
    )


@require_POST
def login_key_options(request: HttpRequest) -> JsonResponse:
    pending = flows.pending_login(request)
    if pending is None:
        return _error(_("Sign in with your password first."), status=403)
    try:
        return JsonResponse({"publicKey": flows.authentication_options(request, pending[0])})
    except CeremonyError:
        return _error(flows.ALL_KEYS_BLOCKED, status=403)


@require_POST
def login_key_verify(request: HttpRequest) -> JsonResponse:
    pending = flows.pending_login(request)
    if pending is None:
        return _error(_("Sign in with your password first."), status=403)
    user, next_url = pending
    try:
        credential = json_body(request).get("credential")
    except BadBody as problem:
        return _error(flows.BAD_ASSERTION, status=problem.status)
    try:
        key = flows.authenticate(request, user, credential)
    except CeremonyError:
        return _error(flows.BAD_ASSERTION)
    user.otp_device = key  # django-otp keeps it in the new session: is_verified()
    account_flows.login(request, user)
    return JsonResponse({"redirect": next_url or reverse("accounts:settings")})
