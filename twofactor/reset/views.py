"""Pages of the two-factor reset. Thin: check who asks, call the flow.

The reset is open only to a user who passed the password step (a pending login). The running
reset is then remembered in the session, so that the codes can be typed in after the pending
login's five minutes are over: mail and SMS may take longer, and the password is asked again.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import flows as account_flows
from accounts import ratelimit
from accounts.models import User

from .. import flows
from ..exceptions import LinkedServiceUnavailable
from ..models import TwoFactorReset
from . import flows as reset_flows
from . import services
from .forms import ResetForm

# A name, not a secret.
RESET_SESSION_KEY = "mojeid_two_factor_reset"
# One message for any wrong answer: which part was wrong must not be learnt by trying.
REFUSED = gettext_lazy("The codes or the password are not right.")
NOT_VALID = gettext_lazy(
    "These codes are no longer valid: they expired, were used, or were tried too many times. "
    "Ask for new codes."
)
HELPDESK = gettext_lazy(
    "Your e-mail address or phone number is not confirmed, so we cannot send you the codes. "
    "The reset has to go through MojeID support (the helpdesk)."
)
DONE = gettext_lazy(
    "Every second factor was removed from your account. Set up a new security key or "
    "MojeID Klíč now."
)


def _reset_of_session(request: HttpRequest) -> TwoFactorReset | None:
    """The reset this browser started, unless another account has signed in here meanwhile."""
    stored = request.session.get(RESET_SESSION_KEY)
    if not isinstance(stored, dict):
        return None
    reset = (
        TwoFactorReset.objects.select_related("user")
        .filter(pk=stored.get("reset"), user_id=stored.get("user"), user__is_active=True)
        .first()
    )
    if reset is None:
        return None
    pending = flows.pending_login(request)
    if pending is not None and pending[0].pk != reset.user_id:
        return None
    if request.user.is_authenticated and request.user.pk != reset.user_id:
        return None
    return reset


@never_cache
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """Explain the reset; on POST send PIN1 and PIN2 and go on to the form."""
    if request.user.is_authenticated:
        # Signed in already (maybe as another account since the password step): nothing to reset.
        return redirect("accounts:login")
    pending = flows.pending_login(request)
    if pending is None:
        messages.info(request, _("Sign in with your password first."))
        return redirect("accounts:login")
    user = pending[0]
    context = {"helpdesk": HELPDESK if not services.contacts_confirmed(user) else ""}
    status = 200
    if request.method == "POST" and not context["helpdesk"]:
        try:
            reset = reset_flows.start(request, user)
        except ratelimit.RateLimited as error:
            context["error"], status = ratelimit.retry_message(error), 429
        except services.ContactsNotConfirmed:  # unconfirmed since the page was shown
            context["helpdesk"] = HELPDESK
        else:
            request.session[RESET_SESSION_KEY] = {"reset": reset.pk, "user": user.pk}
            return redirect("twofactor:reset:confirm")
    return render(request, "twofactor/reset/start.html", context, status=status)


@never_cache
@sensitive_post_parameters("password", "email_code", "phone_code")
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest) -> HttpResponse:
    """The control code on the page, and the form for it, PIN1, PIN2 and the password."""
    reset = _reset_of_session(request)
    if reset is None:
        return redirect("twofactor:reset:start")
    form = ResetForm(request.POST or None)
    error, status = "", 200
    if request.method == "POST":
        try:
            if form.is_valid():
                reset_flows.complete(request, reset, **form.cleaned_data)
                return _signed_in(request, reset.user)
        except ratelimit.RateLimited as problem:
            error, status = ratelimit.retry_message(problem), 429
        except (services.ResetRefused, services.ResetNotRunning):
            error = REFUSED
        except LinkedServiceUnavailable as problem:
            error, status = problem.message, 503
        # After a refusal the form keeps what was typed, whatever part was wrong (so it tells
        # nothing), except the password, which is never shown again: the control code is on
        # this page anyway, and the two codes are worth nothing without the password.
        reset.refresh_from_db()
    running = services.is_running(reset)
    return render(
        request,
        "twofactor/reset/confirm.html",
        {
            "form": form if running else None,
            "control_code": reset.control_code,
            "expires_at": reset.expires_at,
            "error": error,
            "tries_left": _tries_left(reset) if error == REFUSED and running else None,
            "not_valid": "" if running else NOT_VALID,
        },
        status=status,
    )


def _tries_left(reset: TwoFactorReset) -> str:
    left = services.MAX_FAILED_ATTEMPTS - reset.failed_attempts
    return ngettext(
        "You can try %(count)d more time; then ask for new codes.",
        "You can try %(count)d more times; then ask for new codes.",
        left,
    ) % {"count": left}


def _signed_in(request: HttpRequest, user: User) -> HttpResponse:
    """Sign the user in without a second factor (none is left) and send them to set one up."""
    request.session.pop(RESET_SESSION_KEY, None)
    request.session.pop(flows.PENDING_LOGIN, None)
    user.refresh_from_db()  # the reset moved its session epoch: the new session must match it
    account_flows.login(request, user)
    messages.success(request, DONE)
    return redirect(reverse("accounts:settings") + "#two-factor")
