"""Re-authentication, the "sudo" window: sensitive changes need a recent proof of the password.

A flow calls `raise_if_reauthentication_required(request)` before it changes anything. The
exception is turned by `ReauthenticationMiddleware` into a redirect to the re-authentication page,
which afterwards resumes the original action: a GET is repeated; a POST is replayed with its data
when its view declared every posted field safe to park in the session (`@replayable_fields`),
otherwise the page is shown again to be filled in. A parked action expires with the window.
"""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme

AUTH_AT = "mojeid_auth_at"  # when the session signed in (absolute lifetime)
LAST_SEEN = "mojeid_last_seen"  # the last request (idle timeout)
REAUTH_AT = "mojeid_reauth_at"  # the last proof of the password (sudo window)
REAUTH_FACTOR = "mojeid_reauth_factor"  # whether that proof took a second factor too
PENDING_ACTION = "mojeid_pending_action"


class ReauthenticationRequired(Exception):
    """Raised by a flow that needs a fresh proof of the password before it may go on."""


def mark_authenticated(
    request: HttpRequest, *, new_session: bool, with_second_factor: bool = False
) -> None:
    """The password was just proved (with a second factor as well, if `with_second_factor`)."""
    now = time.time()
    if new_session:
        request.session[AUTH_AT] = now
        request.session[LAST_SEEN] = now
    request.session[REAUTH_AT] = now
    request.session[REAUTH_FACTOR] = with_second_factor


def is_recently_authenticated(request: HttpRequest) -> bool:
    proved_at = request.session.get(REAUTH_AT)
    return (
        proved_at is not None
        and time.time() - proved_at <= settings.REAUTHENTICATION_WINDOW_SECONDS
    )


def is_safe_next(request: HttpRequest, url: str) -> bool:
    """Whether a sign-in or re-authentication may go on to `url` afterwards.

    Only a page of this site, and only an address short enough to be carried in `?next=` and
    redirected to (Django refuses targets over 2,048 characters here and redirects over 16 KB):
    anything else is not a place to go on to, and the caller falls back to its default page.
    """
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def login_url(request: HttpRequest, next_url: str) -> str:
    """The portal's sign-in page, going on to `next_url` afterwards when that is a safe target."""
    login = reverse(settings.LOGIN_URL)
    if not is_safe_next(request, next_url):
        return login
    return f"{login}?{urlencode({'next': next_url}, safe='/')}"  # as Django's redirect_to_login


def raise_if_reauthentication_required(
    request: HttpRequest, *, second_factor: bool = False
) -> None:
    """Go on only after a recent proof of the password; with `second_factor`, only after one
    that took the second factor too (never the password alone: a sign-in before the first
    factor was added does not count)."""
    if not is_recently_authenticated(request) or (
        second_factor and not request.session.get(REAUTH_FACTOR)
    ):
        raise ReauthenticationRequired


def sensitive_change(reason):
    """Name the change a view makes, for the re-authentication page ("You are changing your
    password."): a lazy text, or a function of the view's URL arguments returning one."""

    def mark(view):
        view.reauthentication_reason = reason
        return view

    return mark


def pending_reason(request: HttpRequest) -> str:
    """What the action parked for after re-authentication does, as its view names it."""
    action = request.session.get(PENDING_ACTION)
    if not isinstance(action, dict):
        return ""
    try:
        match = resolve(str(action.get("path", "")))
    except Resolver404:
        return ""
    reason = getattr(match.func, "reauthentication_reason", "")
    return str(reason(**match.kwargs) if callable(reason) else reason)


def replayable_fields(*names: str):
    """Let a view's POST be parked during re-authentication and replayed afterwards.

    Only the named fields may be parked (never a password, a PIN or a code): a POST carrying any
    other field is not replayed, and the user fills the form in again.
    """

    def mark(view):
        view.replayable_fields = frozenset(names)
        return view

    return mark


def stash_pending_action(request: HttpRequest) -> None:
    action = {
        "path": request.path_info,
        "query": request.META.get("QUERY_STRING", ""),
        "at": time.time(),
    }
    if request.method == "POST":
        view = request.resolver_match.func if request.resolver_match else None
        allowed = getattr(view, "replayable_fields", frozenset())
        posted = {name for name in request.POST if name != "csrfmiddlewaretoken"}
        if posted <= allowed:
            action["post"] = {name: request.POST.getlist(name) for name in posted}
    request.session[PENDING_ACTION] = action


def resume_pending_action(request: HttpRequest) -> HttpResponse:
    """Carry on with what the user was doing before re-authenticating."""
    action = request.session.pop(PENDING_ACTION, None)
    fallback = redirect(settings.LOGIN_REDIRECT_URL)
    if not action or time.time() - action["at"] > settings.REAUTHENTICATION_WINDOW_SECONDS:
        return fallback  # nothing parked, or parked so long ago that the user has moved on
    path, query = action["path"], action["query"]
    full_path = f"{request.META.get('SCRIPT_NAME', '')}{path}"
    target = f"{full_path}?{query}" if query else full_path
    if not is_safe_next(request, target):
        return fallback  # e.g. an address too long to redirect to
    if "post" not in action:
        return redirect(target)
    try:
        match = resolve(path)
    except Resolver404:
        return fallback
    # The original POST passed the CSRF check; the re-authentication POST carrying us here did too.
    data = QueryDict(mutable=True)
    for name, values in action["post"].items():
        data.setlist(name, values)
    request.GET = QueryDict(query)
    request.POST = data
    request._body = data.urlencode().encode()  # not the re-authentication body with the password
    request.path_info, request.path = path, full_path
    request.resolver_match = match
    return match.func(request, *match.args, **match.kwargs)
