"""Re-authentication, the "sudo" window: sensitive changes need a recent proof of the password.

A flow calls `raise_if_reauthentication_required(request)` before it changes anything. The
exception is turned by `ReauthenticationMiddleware` into a redirect to the re-authentication page,
which afterwards resumes the original action: a GET is repeated, a POST is replayed with its data
(unless the data holds a password, which is never parked in the session; then the page is shown
again to be filled in).
"""

import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme

AUTH_AT = "mojeid_auth_at"  # when the session signed in (absolute lifetime)
LAST_SEEN = "mojeid_last_seen"  # the last request (idle timeout)
REAUTH_AT = "mojeid_reauth_at"  # the last proof of the password (sudo window)
PENDING_ACTION = "mojeid_pending_action"


class ReauthenticationRequired(Exception):
    """Raised by a flow that needs a fresh proof of the password before it may go on."""


def mark_authenticated(request: HttpRequest, *, new_session: bool) -> None:
    now = time.time()
    if new_session:
        request.session[AUTH_AT] = now
        request.session[LAST_SEEN] = now
    request.session[REAUTH_AT] = now


def is_recently_authenticated(request: HttpRequest) -> bool:
    proved_at = request.session.get(REAUTH_AT)
    return (
        proved_at is not None
        and time.time() - proved_at <= settings.REAUTHENTICATION_WINDOW_SECONDS
    )


def raise_if_reauthentication_required(request: HttpRequest) -> None:
    if not is_recently_authenticated(request):
        raise ReauthenticationRequired


def _holds_secret(data: QueryDict) -> bool:
    return any("password" in name for name in data)


def stash_pending_action(request: HttpRequest) -> None:
    action = {"path": request.get_full_path(), "method": request.method}
    if request.method == "POST" and not _holds_secret(request.POST):
        action["post"] = {
            name: request.POST.getlist(name)
            for name in request.POST
            if name != "csrfmiddlewaretoken"
        }
    request.session[PENDING_ACTION] = action


def resume_pending_action(request: HttpRequest) -> HttpResponse:
    """Carry on with what the user was doing before re-authenticating."""
    action = request.session.pop(PENDING_ACTION, None)
    fallback = redirect(settings.LOGIN_REDIRECT_URL)
    if not action or not url_has_allowed_host_and_scheme(action["path"], allowed_hosts=None):
        return fallback
    if "post" not in action:
        return redirect(action["path"])
    path = action["path"].split("?", 1)[0]
    try:
        match = resolve(path)
    except Resolver404:
        return fallback
    # The original POST passed the CSRF check; the re-authentication POST carrying us here did too.
    data = QueryDict(mutable=True)
    for name, values in action["post"].items():
        data.setlist(name, values)
    request.POST = data
    request.path = request.path_info = path
    request.resolver_match = match
    return match.func(request, *match.args, **match.kwargs)
