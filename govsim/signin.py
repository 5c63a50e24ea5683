"""Signing the simulator's own people in: one mechanism for the data box system's persons and
the simulator's staff (Czech POINT clerks, operators).

A person of the simulator is not a Django user and never goes through `django.contrib.auth`:
in the embedded stack the browser shares one session with the portal, so each kind of person is
remembered under a session key of its own, beside (never instead of) the portal's sign-in.
Signing in or out here leaves the portal's `request.user` as it was, and the reverse.

Failed attempts are counted per username (whether or not it exists, so that the count reveals
nothing), and every failure — unknown user, wrong password, a person who may not sign in here,
too many attempts — is the same `None`. The session keeps a hash of the person's password hash,
so a new password ends every session signed in before.
"""

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.hashers import check_password, is_password_usable, make_password
from django.core.cache import cache
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import url_has_allowed_host_and_scheme

MAX_FAILURES, FAILURE_WINDOW_SECONDS = 10, 15 * 60
# Where the person signed in is remembered for the rest of one request.
_REQUEST_CACHE = "_govsim_signed_in"


def next_page(request: HttpRequest, default: str) -> str:
    """Where a sign-in page goes on to: its `next` when that is a page of this site, else
    `default` (never another site: a link to the sign-in must not become a redirector)."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def login_redirect(
    request: HttpRequest, login_url: str, next_url: str | None = None
) -> HttpResponse:
    """To a sign-in page, and on to `next_url` (default: this page) after it when that is a safe
    target.

    An address too long to come back to (`url_has_allowed_host_and_scheme` refuses one over 2,048
    characters) is left out: carried along it would pass Django's redirect limit and end in
    DisallowedRedirect instead of the sign-in page.
    """
    target = request.get_full_path() if next_url is None else next_url
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        # Slashes stay readable, as in Django's redirect_to_login and the portal's.
        return redirect(f"{login_url}?{urlencode({'next': target}, safe='/')}")
    return redirect(login_url)


class PasswordHolder:
    """What a model of people who sign in here adds to its `password` field (a hash).

    `SESSION_SALT` names the kind of person, so a session hash of one kind never fits another.
    """

    SESSION_SALT: str

    def set_password(self, raw_password: str | None) -> None:
        """Store a password hash; None makes the password unusable (no sign-in)."""
        self.password = make_password(raw_password)

    def check_password(self, raw_password: str) -> bool:
        return check_password(raw_password, self.password)

    def has_usable_password(self) -> bool:
        return is_password_usable(self.password)

    def session_hash(self) -> str:
        """Kept in the session at sign-in: a new password ends every session signed in before."""
        return salted_hmac(self.SESSION_SALT, self.password).hexdigest()


@dataclass(frozen=True)
class SignIn:
    """How one kind of person signs in: its model (with `username`, `is_active`, `last_login`,
    `check_password()` and `session_hash()`) and its own session key."""

    model: type[models.Model]
    session_key: str
    # Relations read with the signed-in person on every page (one query instead of two).
    select_related: tuple[str, ...] = ()

    def _failure_key(self, username: str) -> str:
        digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()
        return f"govsim:login-failures:{self.session_key}:{digest}"

    def authenticate(self, username: str, password: str, **required: Any) -> models.Model | None:
        """The active person with this username and password (and the `required` field values,
        e.g. `is_clerk=True`), or None — one answer for every failure."""
        if not username.isascii():
            # Usernames are ASCII. Past this point the database's case-insensitive match and the
            # counter's casefold() must agree, which they do not for e.g. a dotless ı.
            make_password(password)
            return None
        key = self._failure_key(username)
        # The attempt is counted before the (slow) check, so that parallel guesses cannot all
        # pass the limit while the first ones are still being checked; a success resets it.
        cache.add(key, 0, FAILURE_WINDOW_SECONDS)
        try:
            attempts = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 0, FAILURE_WINDOW_SECONDS)
            attempts = cache.incr(key)
        if attempts > MAX_FAILURES:
            return None
        person = self.model.objects.filter(
            username__iexact=username.strip(), is_active=True, **required
        ).first()
        if person is None:
            make_password(password)  # as slow as a real check: the timing tells no more
            return None  # the attempt stays counted
        if not person.check_password(password):
            return None
        cache.delete(key)
        self.model.objects.filter(pk=person.pk).update(last_login=timezone.now())
        return person

    def sign_in(self, request: HttpRequest, person: models.Model) -> None:
        """Remember the person in this browser session (under `session_key` only)."""
        # A new session key against fixation; the data in it (the portal's, embedded) stays.
        request.session.cycle_key()
        self.remember(request, person)

    def remember(self, request: HttpRequest, person: models.Model) -> None:
        """Store the person's current password hash in this session, e.g. after the person
        changed their own password here, so that this session stays signed in."""
        request.session[self.session_key] = {"id": person.pk, "hash": person.session_hash()}
        self._cache(request)[self.session_key] = person

    def sign_out(self, request: HttpRequest) -> None:
        """Forget the person of this session."""
        # Only our key: flushing the session would sign the browser out of the portal too.
        request.session.pop(self.session_key, None)
        self._cache(request)[self.session_key] = None

    def signed_in(self, request: HttpRequest) -> models.Model | None:
        """The person signed in in this session, if still allowed to be (active, same
        password)."""
        known = self._cache(request)
        if self.session_key in known:
            return known[self.session_key]
        stored = request.session.get(self.session_key)
        person = None
        if isinstance(stored, dict) and isinstance(stored.get("id"), int):
            person = (
                self.model.objects.filter(pk=stored["id"], is_active=True)
                .select_related(*self.select_related)
                .first()
            )
            if person is not None and not constant_time_compare(
                str(stored.get("hash", "")), person.session_hash()
            ):
                person = None
            if person is None:
                request.session.pop(self.session_key, None)
        known[self.session_key] = person
        return person

    @staticmethod
    def _cache(request: HttpRequest) -> dict:
        if not hasattr(request, _REQUEST_CACHE):
            setattr(request, _REQUEST_CACHE, {})
        return getattr(request, _REQUEST_CACHE)
