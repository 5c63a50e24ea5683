"""The portal as NIA's identity provider: the single sign-on endpoint and the citizen's sign-in
page for a public administration service. Thin, over `signin`."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import flows as account_flows
from accounts import ratelimit
from accounts.forms import GENERIC_LOGIN_ERROR, LoginForm
from accounts.models import User
from twofactor import flows as key_flows
from twofactor.exceptions import KlicNotUsable
from twofactor.http import BadBody, json_body
from twofactor.internal.webauthn import CeremonyError
from twofactor.klic import flows as klic_flows

from . import signin
from .exceptions import NiaLinkError
from .internal import saml_idp
from .models import Level, SignInRequest

logger = logging.getLogger(__name__)

NOT_LINKED = gettext_lazy(
    "Your MojeID account does not have access to public administration services. You can get "
    "it in Settings, in the Access to public administration services section."
)
NO_AUTHENTICATOR = gettext_lazy(
    "None of your authenticators registered for public administration services reaches the level "
    "of assurance this service asks for (%(level)s)."
)
KLIC_STATES = {
    "denied": gettext_lazy("The sign-in was denied in MojeID Klíč."),
    "expired": gettext_lazy("The request expired before it was approved. Try again."),
    "gone": gettext_lazy("This request is no longer valid. Try again."),
}


def _problem(request: HttpRequest, reason: str, *, status: int) -> HttpResponse:
    return render(request, "nia_link/idp_problem.html", {"reason": reason}, status=status)


def _post_answer(request: HttpRequest, answer: signin.Answer, sign_in: SignInRequest):
    return render(
        request,
        "nia_link/idp_post.html",
        {"answer": answer, "service": signin.display_name(sign_in)},
    )


# --- Single sign-on: NIA's AuthnRequest ------------------------------------------------------


@csrf_exempt  # NIA posts its AuthnRequest from its own site (HTTP-POST binding)
@never_cache
@require_http_methods(["GET", "POST"])
def sso(request: HttpRequest) -> HttpResponse:
    """Receive NIA's AuthnRequest (HTTP-Redirect or HTTP-POST): an acceptable one opens the
    citizen's sign-in page; any other gets an error page, never an assertion."""
    data = request.GET if request.method == "GET" else request.POST
    binding = saml_idp.BINDING_REDIRECT if request.method == "GET" else saml_idp.BINDING_POST
    try:
        sign_in = signin.accept(
            data.get("SAMLRequest", ""),
            binding,
            relay_state=data.get("RelayState", ""),
            query=request.META.get("QUERY_STRING", "") if request.method == "GET" else "",
        )
    except saml_idp.RequestRefused as refused:
        logger.warning("NIA's AuthnRequest refused: %s", refused)
        return _problem(request, "invalid_request", status=400)
    except NiaLinkError as problem:
        logger.warning("NIA's metadata cannot be read: %s", problem)
        return _problem(request, "unavailable", status=503)
    response = redirect("nia_link:idp_signin", token=sign_in.token)
    # The browser NIA sent is the one that may be answered for: a sign-in page opened elsewhere
    # (a link an attacker passed on, to have a signed-in victim answer their request) is not.
    # Not in the session: NIA's cross-site POST carries no session cookie (SameSite=Lax), and a
    # new session here would sign the citizen out.
    response.set_cookie(
        _binding_cookie(sign_in.token),
        sign_in.token,
        max_age=int(signin.PENDING.total_seconds()),
        path=reverse("nia_link:idp_signin", kwargs={"token": sign_in.token}),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _binding_cookie(token: str) -> str:
    return f"mojeid_idp_{token[:16]}"


def _pending(request: HttpRequest, token: str) -> SignInRequest | None:
    """The sign-in request of `token`, if this is the browser NIA sent with it."""
    sign_in = signin.pending(token)
    if sign_in is None or request.COOKIES.get(_binding_cookie(token)) != sign_in.token:
        return None
    return sign_in


# --- The citizen's sign-in page --------------------------------------------------------------


def _who(request: HttpRequest, sign_in: SignInRequest) -> User | None:
    if request.user.is_authenticated:
        return request.user
    return signin.parked_user(request, sign_in)


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_page(request: HttpRequest, token: str) -> HttpResponse:
    """Sign in to a public administration service: answer NIA at once when this session proved
    the password and a registered authenticator lately; else ask for what is missing."""
    sign_in = _pending(request, token)
    if sign_in is None:
        return _problem(request, "expired", status=410)
    user = _who(request, sign_in)
    if sign_in.request.get("is_passive"):
        return _refuse(request, sign_in, saml_idp.STATUS_NO_PASSIVE, "passive", user)
    if user is not None:
        proved = signin.proof(request, user, sign_in)
        if proved is not None:
            try:
                return _post_answer(request, signin.answer(request, user, sign_in, proved), sign_in)
            except signin.AlreadyAnswered:
                return _problem(request, "expired", status=410)
            except NiaLinkError as problem:
                logger.warning("NIA's metadata cannot be read: %s", problem)
                return _problem(request, "unavailable", status=503)
        refusal = _cannot(user, sign_in)
        if refusal is not None:
            return render(
                request,
                "nia_link/idp_refused.html",
                {"sign_in": sign_in, "service": signin.display_name(sign_in), "message": refusal},
                status=403,
            )
    if user is None or not signin.password_fresh(request, user, sign_in):
        return _password_step(request, sign_in, user)
    return _factor_step(request, sign_in, user)


def _cannot(user: User, sign_in: SignInRequest) -> str | None:
    """Why this account cannot sign in to the service at all, or None."""
    if signin.active_link(user) is None:
        return str(NOT_LINKED)
    if not signin.registered(user, sign_in.level):
        return str(NO_AUTHENTICATOR % {"level": Level(sign_in.level).label})
    return None


def _password_step(request: HttpRequest, sign_in: SignInRequest, user: User | None):
    form = LoginForm(request, request.POST or None, initial={"login": user and user.username})
    if request.method == "POST" and "password" in request.POST:
        if user is not None:  # signed in already: their own password, whatever was typed
            form.data = form.data.copy()
            form.data["login"] = user.username
        if form.is_valid() and (user is None or form.user.pk == user.pk):
            signin.remember_password(request, form.user, sign_in)
            return redirect("nia_link:idp_signin", token=sign_in.token)
        if form.is_valid():
            form.add_error(None, GENERIC_LOGIN_ERROR)
    return render(
        request,
        "nia_link/idp_signin.html",
        {
            "sign_in": sign_in,
            "service": signin.display_name(sign_in),
            "form": form,
            "step": "password",
            "user_known": user is not None,
        },
        status=400 if form.errors else 200,
    )


def _factor_step(request: HttpRequest, sign_in: SignInRequest, user: User):
    return render(
        request,
        "nia_link/idp_signin.html",
        {
            "sign_in": sign_in,
            "service": signin.display_name(sign_in),
            "step": "factor",
            "keys": signin.registered_keys(user, sign_in.level),
            "klic": signin.registered_klic(user, sign_in.level),
            "high": sign_in.level == Level.HIGH,
        },
    )


def _refuse(request, sign_in: SignInRequest, status: str, reason: str, user: User | None):
    try:
        return _post_answer(
            request,
            signin.refuse(request, sign_in, status=status, reason=reason, user=user),
            sign_in,
        )
    except signin.AlreadyAnswered:
        return _problem(request, "expired", status=410)
    except NiaLinkError:
        return _problem(request, "unavailable", status=503)


@never_cache
@require_POST
def refuse(request: HttpRequest, token: str) -> HttpResponse:
    """Back to NIA without signing in: NIA gets an error response (no assertion)."""
    sign_in = _pending(request, token)
    if sign_in is None:
        return _problem(request, "expired", status=410)
    user = _who(request, sign_in)
    if user is not None and signin.active_link(user) is None:
        return _refuse(request, sign_in, saml_idp.STATUS_UNKNOWN_PRINCIPAL, "not_linked", user)
    if user is not None and not signin.registered(user, sign_in.level):
        return _refuse(request, sign_in, saml_idp.STATUS_NO_AUTHN_CONTEXT, "level", user)
    return _refuse(request, sign_in, saml_idp.STATUS_REQUEST_DENIED, "cancelled", user)


# --- The authenticator: a registered key, or MojeID Klíč -------------------------------------


def _factor_user(request: HttpRequest, token: str) -> tuple[SignInRequest, User] | None:
    sign_in = _pending(request, token)
    if sign_in is None:
        return None
    user = _who(request, sign_in)
    if user is None or not signin.password_fresh(request, user, sign_in):
        return None
    return sign_in, user


def _signed_in(request: HttpRequest, user: User, device) -> None:
    """A visitor who proved the password and a registered authenticator here is now signed in
    to the portal too (as after its own sign-in)."""
    if request.user.is_authenticated:
        return
    user.otp_device = device  # django-otp keeps it in the new session
    account_flows.login(request, user)


def _gone() -> JsonResponse:
    return JsonResponse(
        {"error": _("This sign-in is no longer valid. Start again at the service.")}, status=403
    )


@require_POST
def key_options(request: HttpRequest, token: str) -> JsonResponse:
    found = _factor_user(request, token)
    if found is None:
        return _gone()
    sign_in, user = found
    try:
        options = key_flows.authentication_options(
            request, user, **signin.key_ceremony(user, sign_in)
        )
    except CeremonyError:
        return JsonResponse(
            {"error": str(NO_AUTHENTICATOR % {"level": Level(sign_in.level).label})}, status=403
        )
    return JsonResponse({"publicKey": options})


@require_POST
def key_verify(request: HttpRequest, token: str) -> JsonResponse:
    found = _factor_user(request, token)
    if found is None:
        return _gone()
    sign_in, user = found
    try:
        ratelimit.hit("nia-signin-key", str(user.pk), limit=20, per_seconds=600)
    except ratelimit.RateLimited:
        return JsonResponse({"error": _("Too many attempts. Try again later.")}, status=429)
    try:
        credential = json_body(request).get("credential")
    except BadBody as problem:
        return JsonResponse({"error": str(key_flows.BAD_ASSERTION)}, status=problem.status)
    if not isinstance(credential, dict):
        return JsonResponse({"error": str(key_flows.BAD_ASSERTION)}, status=400)
    try:
        key = key_flows.authenticate(
            request, user, credential, **signin.key_ceremony(user, sign_in)
        )
    except CeremonyError:
        return JsonResponse({"error": str(key_flows.BAD_ASSERTION)}, status=400)
    _signed_in(request, user, key)
    return JsonResponse({"redirect": reverse("nia_link:idp_signin", kwargs={"token": token})})


@require_POST
def klic_start(request: HttpRequest, token: str) -> JsonResponse:
    found = _factor_user(request, token)
    if found is None:
        return _gone()
    sign_in, user = found
    if signin.registered_klic(user, sign_in.level) is None:
        return _gone()
    try:
        number = klic_flows.ask(
            request, user, purpose=f"nia-{sign_in.pk}", service=signin.display_name(sign_in)
        )
    except KlicNotUsable:
        return JsonResponse({"error": _("MojeID Klíč cannot be used now.")}, status=403)
    except ratelimit.RateLimited:
        return JsonResponse({"error": _("Too many requests. Try again later.")}, status=429)
    return JsonResponse({"status": "pending", "number": number})


@require_GET
def klic_status(request: HttpRequest, token: str) -> JsonResponse:
    found = _factor_user(request, token)
    if found is None:
        return _gone()
    sign_in, user = found
    state, device = klic_flows.answer(request, user, purpose=f"nia-{sign_in.pk}")
    if device is not None:
        _signed_in(request, user, device)
        return JsonResponse(
            {
                "status": "approved",
                "redirect": reverse("nia_link:idp_signin", kwargs={"token": token}),
            }
        )
    return JsonResponse({"status": state, "message": str(KLIC_STATES.get(state, ""))})
