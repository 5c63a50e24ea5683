"""Session lifetime (idle and absolute timeouts), requests that race a sign-in or sign-out in
the same browser, the second factor of every session, and the re-authentication redirect."""

import time

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.sessions.backends.base import UpdateError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from .adapter import get_adapter
from .audit import record
from .models import AuditEvent
from .reauth import (
    AUTH_AT,
    LAST_SEEN,
    ReauthenticationRequired,
    login_url,
    stash_pending_action,
)

# Refresh the idle timer at most this often, so that most page views do not write the session.
LAST_SEEN_RESOLUTION_SECONDS = 60


def _saved_unless_ended_meanwhile(request: HttpRequest, response: HttpResponse) -> bool:
    """Save a JSON answer's changed session now; False if another request ended it meanwhile.

    A sign-in renews the session key and a sign-out deletes the session; a request of the same
    browser running at the same time (a second tab, a poll) still holds the old session and cannot
    save it. SessionMiddleware would then answer Django's HTML 400 (SessionInterrupted), which a
    page's script cannot read. Saving here, where the answer can still be changed, is the only
    check without a gap: the row may vanish between a look and the save.
    """
    session = getattr(request, "session", None)
    if (
        session is None
        or not session.modified
        or not session.session_key  # renewed or emptied by this very request: a new row
        or session.is_empty()  # SessionMiddleware deletes the cookie instead of saving
        or response.status_code >= 500  # SessionMiddleware saves nothing then
        or not response.get("Content-Type", "").startswith("application/json")
    ):
        return True
    try:
        session.save()
    except UpdateError:
        return False
    finally:
        # Saved (the cookie keeps its key) or gone: either way SessionMiddleware has nothing left
        # to write.
        session.modified = False
    return True


def _keep_cookie_of_unknown_session(request: HttpRequest) -> None:
    """Let SessionMiddleware leave the cookie alone when its session was not found.

    Django deletes the cookie of a session it cannot find. But the session may have been renewed
    a moment ago by a sign-in in a concurrent request of the same browser (a poll that lost the
    race): deleting the cookie then, if this answer arrives last, signs the browser out of the
    session it has just signed in to. A cookie of an unknown session harms nothing (it opens
    nothing and expires), so only a sign-out, which empties the session itself, deletes it.
    """
    session = getattr(request, "session", None)
    if (
        session is not None
        and settings.SESSION_COOKIE_NAME in request.COOKIES
        and not session.modified  # a sign-out empties the session: that one deletes the cookie
        and session.is_empty()  # no key: the cookie's session was not found
    ):
        del request.COOKIES[settings.SESSION_COOKIE_NAME]


class SessionLifetimeMiddleware:
    """Sign the user out after 30 minutes idle or 12 hours in all (NIST SP 800-63B, AAL2).

    A request whose session another request of the same browser ended meanwhile does not undo
    that request's work: a JSON one gets a JSON 409 (instead of Django's HTML 400), and no answer
    deletes or replaces the browser's cookie, so the other request's new session stays its own.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self._within_lifetime(request)
        _keep_cookie_of_unknown_session(request)
        if not _saved_unless_ended_meanwhile(request, response):
            message = _("Your session changed in another window or tab. Reload the page.")
            return JsonResponse(
                {"status": "gone", "error": message, "message": message}, status=409
            )
        return response

    def _within_lifetime(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            session = request.session
            now = time.time()
            auth_at, last_seen = session.get(AUTH_AT), session.get(LAST_SEEN)
            if (
                auth_at is None
                or last_seen is None
                or now - auth_at > settings.SESSION_ABSOLUTE_TIMEOUT_SECONDS
                or now - last_seen > settings.SESSION_IDLE_TIMEOUT_SECONDS
            ):
                user = request.user
                auth.logout(request)
                record(AuditEvent.Kind.SESSION_EXPIRED, user=user, request=request)
                messages.info(request, _("Your session expired. Please sign in again."))
            elif now - last_seen >= LAST_SEEN_RESOLUTION_SECONDS:
                session[LAST_SEEN] = now
        return self.get_response(request)


class SecondFactorMiddleware:
    """End a session of a user with a second factor that this session never proved.

    Every sign-in page of the portal asks for the second factor; this catches any other way in
    (the admin's login, the simulator admin's, a future one), and a session that was signed in
    with the password alone before the user added a factor elsewhere.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and get_adapter().second_factor_missing(request):
            user = request.user
            auth.logout(request)
            record(AuditEvent.Kind.SESSION_EXPIRED, user=user, request=request, why="second factor")
            messages.info(request, _("Sign in again with your second factor."))
            return redirect(login_url(request, request.path))
        return self.get_response(request)


class ReauthenticationMiddleware:
    """Turn ReauthenticationRequired into a visit to the re-authentication page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, ReauthenticationRequired):
            return None
        if not request.user.is_authenticated:
            return redirect(login_url(request, request.path))
        stash_pending_action(request)
        return redirect("accounts:reauthenticate")
