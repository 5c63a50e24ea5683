"""Account pages: thin views that parse a form, call a flow or service, and render."""

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from . import flows, ratelimit
from .adapter import get_adapter
from .decorators import login_required
from .forms import (
    CodeForm,
    EmailChangeForm,
    LoginForm,
    PasswordChangeForm,
    PasswordForgottenForm,
    PhoneChangeForm,
    ProfileForm,
    ReauthenticationForm,
    RegistrationForm,
)
from .models import PROFILE_FIELDS, ContactCode, Profile, ProfileLocked
from .reauth import (
    PENDING_ACTION,
    is_safe_next,
    pending_reason,
    raise_if_reauthentication_required,
    replayable_fields,
    resume_pending_action,
    sensitive_change,
)
from .services import security
from .services.contacts import ContactCodeError, confirm_code, pending_confirmations, send_code
from .services.registration import register_account

Channel = ContactCode.Channel


def _channel_or_404(channel: str) -> str:
    if channel not in Channel.values:
        raise Http404
    return channel


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:settings")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST":
        try:
            flows.count_registration_attempt(request)
        except ratelimit.RateLimited as error:
            return render(
                request,
                "accounts/register.html",
                {"form": RegistrationForm(), "rate_limited": ratelimit.retry_message(error)},
                status=429,
            )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = register_account(
                username=data["username"],
                password=data["password1"],
                email=data["email"],
                phone=data["phone"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                language=get_language(),
                request=request,
            )
        except IntegrityError:
            # Somebody took the username between validation and saving.
            form.add_error(None, _("This username was taken a moment ago. Try another."))
        else:
            flows.login(request, user)
            messages.success(
                request,
                _("Your account is ready. Confirm your e-mail and phone with the codes we sent."),
            )
            return redirect("accounts:confirm")
    return render(request, "accounts/register.html", {"form": form})


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        second_step = get_adapter().second_step_url(request, form.user, next_url)
        if second_step:
            return redirect(second_step)
        flows.login(request, form.user)
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    flows.logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("home")


@never_cache
@login_required
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def reauthenticate(request: HttpRequest) -> HttpResponse:
    """Prove the password (and the second factor) again, then resume the parked action.

    The page says which change it is for and offers Cancel: back to the page the user came from
    (a page of this site only), dropping the parked action.
    """
    back = _back_address(request)
    if request.method == "POST" and "cancel" in request.POST:
        request.session.pop(PENDING_ACTION, None)
        return redirect(back)
    form = ReauthenticationForm(request.POST or None)
    second_factor = get_adapter().reauthentication_template(request, request.user)
    if request.method == "POST" and form.is_valid():
        if flows.reauthenticate(request, form.cleaned_data["password"], request.POST):
            return resume_pending_action(request)
        form.add_error(
            "password",
            _("Wrong password or security key, or too many attempts. Try again in a moment.")
            if second_factor
            else _("Wrong password, or too many attempts. Try again in a moment."),
        )
    return render(
        request,
        "accounts/reauthenticate.html",
        {
            "form": form,
            "second_factor_template": second_factor,
            "reason": pending_reason(request),
            "back": back,
        },
    )


def _back_address(request: HttpRequest) -> str:
    """Where Cancel leads: the page the user came from (a page of this site), else settings.

    On the first visit that is the Referer (kept by the browser across the redirect that brought
    the user here); the form carries it on, since the page itself is then the Referer.
    """
    candidate = (
        request.POST.get("back", "")
        if request.method == "POST"
        else request.META.get("HTTP_REFERER", "")
    )
    settings_page = reverse(settings.LOGIN_REDIRECT_URL)
    try:
        parts = urlsplit(candidate)
    except ValueError:  # e.g. a broken IPv6 host
        return settings_page
    relative = urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    if (
        parts.scheme not in ("", "http", "https")
        or (parts.netloc and parts.netloc != request.get_host())
        or not parts.path.startswith("/")
        or parts.path == reverse("accounts:reauthenticate")
        or not is_safe_next(request, relative)
    ):
        return settings_page
    return relative


@never_cache
@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    profile = Profile.objects.get(pk=request.user.pk)
    return render(
        request,
        "accounts/settings.html",
        {"profile": profile, "pending": pending_confirmations(request.user)},
    )


@never_cache
@login_required
def confirm_contacts(request: HttpRequest) -> HttpResponse:
    profile = Profile.objects.get(pk=request.user.pk)
    pending = pending_confirmations(request.user)
    return render(
        request,
        "accounts/confirm.html",
        {
            "profile": profile,
            "pending": pending,
            "pending_channels": {item.channel for item in pending},
            "form": CodeForm(),
        },
    )


@login_required
@require_POST
def confirm_contact(request: HttpRequest, channel: str) -> HttpResponse:
    channel = _channel_or_404(channel)
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            confirm_code(request.user, channel, form.cleaned_data["code"], request=request)
        except ContactCodeError as error:
            messages.error(request, error.message)
        else:
            if channel == Channel.EMAIL:
                messages.success(request, _("Your e-mail address is confirmed."))
            else:
                messages.success(request, _("Your phone number is confirmed."))
    else:
        messages.error(request, form.errors["code"][0])
    profile = Profile.objects.get(pk=request.user.pk)
    if (
        profile.email_confirmed
        and profile.phone_confirmed
        and not pending_confirmations(request.user)
    ):
        return redirect("accounts:settings")
    return redirect("accounts:confirm")


@login_required
@require_POST
def resend_code(request: HttpRequest, channel: str) -> HttpResponse:
    channel = _channel_or_404(channel)
    # A pending change gets its code again; otherwise the contact on the profile.
    pending = {item.channel: item.target for item in pending_confirmations(request.user)}
    try:
        send_code(request.user, channel, pending.get(channel), request=request)
    except ContactCodeError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("We sent you a new code."))
    return redirect("accounts:confirm")


@sensitive_change(gettext_lazy("You are changing your profile."))
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@replayable_fields(*PROFILE_FIELDS)
def edit_profile(request: HttpRequest) -> HttpResponse:
    raise_if_reauthentication_required(request)
    profile = Profile.objects.get(pk=request.user.pk)
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        try:
            flows.update_profile(request, form.cleaned_data)
        except ratelimit.RateLimited as error:
            form.add_error(None, ratelimit.retry_message(error))
        except ProfileLocked:  # locked between validation and saving
            form.add_error(None, _("Your profile was locked meanwhile; nothing was changed."))
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("accounts:settings")
    profile.refresh_from_db()  # show what is stored, not what the rejected form put on it
    return render(request, "accounts/profile_form.html", {"form": form, "profile": profile})


@sensitive_change(gettext_lazy("You are changing your password."))
@never_cache
@login_required
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def change_password(request: HttpRequest) -> HttpResponse:
    raise_if_reauthentication_required(request)
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            flows.change_password(request, form.cleaned_data["new_password1"])
        except ratelimit.RateLimited as error:
            form.add_error(None, ratelimit.retry_message(error))
        else:
            messages.success(
                request, _("Your password is changed. We sent you an e-mail about it.")
            )
            return redirect("accounts:settings")
    return render(request, "accounts/password_change.html", {"form": form})


def _contact_change_reason(channel: str) -> str:
    if channel == Channel.EMAIL:
        return _("You are changing your e-mail address.")
    return _("You are changing your phone number.")


@sensitive_change(_contact_change_reason)
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@replayable_fields("email", "phone")
def change_contact(request: HttpRequest, channel: str) -> HttpResponse:
    channel = _channel_or_404(channel)
    raise_if_reauthentication_required(request)
    form_class = EmailChangeForm if channel == Channel.EMAIL else PhoneChangeForm
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        new_value = form.cleaned_data[channel]
        try:
            flows.start_contact_change(request, channel, new_value)
        except ratelimit.RateLimited as error:
            form.add_error(None, ratelimit.retry_message(error))
        except ContactCodeError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("We sent a code to the new contact. Enter it to finish."))
            return redirect("accounts:confirm")
    return render(request, "accounts/contact_change.html", {"form": form, "channel": channel})


# Names, not secrets: a session key, and what stands in the URL once the token is in the session.
PASSWORD_RESET_SESSION_KEY = "mojeid_password_reset"  # noqa: S105
TOKEN_IN_SESSION = "set"  # noqa: S105


@never_cache
@require_http_methods(["GET", "POST"])
def password_forgotten(request: HttpRequest) -> HttpResponse:
    form = PasswordForgottenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            flows.send_password_reset(
                request,
                form.cleaned_data["login"],
                reset_path=lambda uid, token: reverse(
                    "accounts:password_reset", kwargs={"uid": uid, "token": token}
                ),
            )
        except ratelimit.RateLimited as error:
            form.add_error(None, ratelimit.retry_message(error))
        else:
            # The same answer whether the account exists or not.
            messages.success(
                request,
                _(
                    "If the account exists and its e-mail is confirmed, we have sent a link to "
                    "set a new password there."
                ),
            )
            return redirect("accounts:login")
    return render(request, "accounts/password_forgotten.html", {"form": form})


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    if token != TOKEN_IN_SESSION:
        # Out of the address bar (and Referer headers) before the page shows anything.
        request.session[PASSWORD_RESET_SESSION_KEY] = {"uid": uid, "token": token}
        return redirect("accounts:password_reset", uid=uid, token=TOKEN_IN_SESSION)
    pending = request.session.get(PASSWORD_RESET_SESSION_KEY) or {}
    user = (
        security.user_for_reset_token(uid, pending.get("token", ""))
        if pending.get("uid") == uid
        else None
    )
    if user is None:
        return render(request, "accounts/password_reset_invalid.html", status=400)
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        security.change_password(
            user, form.cleaned_data["new_password1"], actor=user, request=request
        )
        # Whoever was signed in in this browser; the user's other sessions ended with the password.
        flows.logout(request)
        messages.success(request, _("Your new password is set. Sign in with it."))
        return redirect("accounts:login")
    return render(request, "accounts/password_reset.html", {"form": form, "reset_user": user})
