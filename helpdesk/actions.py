"""What a verified call allows: the operator acts for the caller through the same services as the
citizen's own pages, as the actor, audited, and the citizen is told by e-mail.

Each action checks, inside it: the operator's fresh re-authentication, their open verified window
for this account (`caller.verified_until`), and a rate limit per operator. Cancelling access ends
the NIA link at once even when NIA is down (an account possibly misused); a task tells NIA until
it confirms. Removing a lost key ends its registration with NIA with it.
"""

from django.http import HttpRequest
from django.urls import reverse

from accounts import ratelimit
from accounts.models import User
from accounts.reauth import raise_if_reauthentication_required
from accounts.services import security
from nia_link import services as nia_services
from twofactor import services as key_services
from twofactor.klic import services as klic_services

from . import caller

ACTIONS_PER_OPERATOR = 30  # an hour: a busy shift, not a script
ACTIONS_WINDOW_SECONDS = 60 * 60


class CallerNotVerified(Exception):
    """The operator has no open verified window for the account."""


def _allowed(request: HttpRequest, account: User) -> None:
    raise_if_reauthentication_required(request)
    if caller.verified_until(request.user, account) is None:
        raise CallerNotVerified(account.pk)
    ratelimit.hit(
        "helpdesk-action",
        str(request.user.pk),
        limit=ACTIONS_PER_OPERATOR,
        per_seconds=ACTIONS_WINDOW_SECONDS,
    )


def cancel_access(request: HttpRequest, account: User) -> bool:
    """Cancel access to public administration services: True if a link was open."""
    _allowed(request, account)
    return nia_services.cancel_link(account, reason="helpdesk", actor=request.user)


def remove_key(request: HttpRequest, account: User, key_id: int) -> bool:
    """Remove a lost security key of the account (and its registration with NIA): False if the
    account has no such key."""
    _allowed(request, account)
    key = account.security_keys.filter(pk=key_id).first()
    if key is None:
        return False
    key_services.remove_key(key, actor=request.user, request=request)
    return True


def unblock_klic(request: HttpRequest, account: User) -> bool:
    """Unblock the account's MojeID Klíč (no daily limit for the helpdesk): False if it was not
    blocked."""
    _allowed(request, account)
    device = klic_services.active_device(account)
    if device is None:
        return False
    return klic_services.unblock_by_helpdesk(device, actor=request.user, request=request)


def send_password_reset(request: HttpRequest, account: User) -> bool:
    """E-mail a password-reset link to the account's confirmed address: False if it has none."""
    _allowed(request, account)
    if not account.profile.email_confirmed:
        return False
    security.send_password_reset(
        account.username,
        request=request,
        actor=request.user,
        reset_path=lambda uid, token: reverse(
            "accounts:password_reset", kwargs={"uid": uid, "token": token}
        ),
    )
    return True
