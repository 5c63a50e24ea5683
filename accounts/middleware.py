"""Session lifetime (idle and absolute timeouts), the second factor of every session, and the
re-authentication redirect."""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from .adapter import get_adapter
from .audit import record
from .models import AuditEvent
from .reauth import AUTH_AT, LAST_SEEN, ReauthenticationRequired, stash_pending_action

# Refresh the idle timer at most this often, so that most page views do not write the session.
LAST_SEEN_RESOLUTION_SECONDS = 60


class SessionLifetimeMiddleware:
    """Sign the user out after 30 minutes idle or 12 hours in all (NIST SP 800-63B, AAL2)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
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
            return redirect(f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': request.path})}")
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
            return redirect(f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': request.path})}")
        stash_pending_action(request)
        return redirect("accounts:reauthenticate")
