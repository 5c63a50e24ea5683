"""Platform middleware."""

import ipaddress

from django.conf import settings
from django.core.exceptions import DisallowedHost, DisallowedRedirect
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.request import split_domain_port
from django.shortcuts import render
from django.utils import translation
from django.utils.encoding import iri_to_uri
from django.utils.html import format_html
from django.utils.translation import gettext as _

from .db import BUSY_RETRY_SECONDS, database_busy

DEVELOPMENT_HOST = "localhost"


class DevelopmentHostMiddleware:
    """Development only: send http://127.0.0.1:8000/… (any loopback address, [::1] too) to
    http://localhost:8000/….

    Browsers refuse security keys (WebAuthn) on a bare IP address, and the cookies of one host are
    not sent to the other, so whoever opens the address the terminal printed an hour ago, or a
    bookmark, must end up where everything works. A GET or HEAD is redirected with its path and
    query. Any other method would lose its body and cookies on the way, so it gets a short page
    (421 Misdirected Request) naming the address to open. The app APIs answer on either host.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        target = development_url(request)
        if target is None:
            return self.get_response(request)
        if request.method in ("GET", "HEAD"):
            try:
                return HttpResponseRedirect(target)
            except DisallowedRedirect:  # too long to redirect to (over 16 KB): say it instead
                pass
        return _open_localhost_page(request, target)


def development_url(request: HttpRequest) -> str | None:
    """The same URL on localhost if this development request came to a loopback IP address."""
    # Read at each request: the middleware list is built at import, before tests turn DEBUG off.
    if not settings.DEBUG or _passed_through(request.path_info):
        return None
    try:
        host = request.get_host()
    except DisallowedHost:
        return None  # refused later by whatever reads the host first, with Django's own answer
    domain, port = split_domain_port(host)
    try:
        loopback = ipaddress.ip_address(domain.strip("[]")).is_loopback
    except ValueError:
        return None  # a name, not an address
    if not loopback:
        return None  # another computer's address: localhost would not reach this server
    netloc = f"{DEVELOPMENT_HOST}:{port}" if port else DEVELOPMENT_HOST
    return iri_to_uri(f"{request.scheme}://{netloc}{request.get_full_path()}")


def _passed_through(path: str) -> bool:
    """Cookie-less, signed or machine-to-machine calls answer where they arrive: the app APIs
    (`/api/…`, the simulator's `/sim/…/api/…`; a cross-origin call such as the phone
    simulator's would not survive a redirect to another origin) and the health check."""
    return "/api/" in path or path == "/healthz"


def _open_localhost_page(request: HttpRequest, target: str) -> HttpResponse:
    scheme, _sep, rest = target.partition("://")
    home = f"{scheme}://{rest.split('/', 1)[0]}/"
    with translation.override(translation.get_language_from_request(request)):
        page = format_html(
            '<!doctype html><html lang="{}"><meta charset="utf-8"><title>MojeID</title>'
            '<h1>{}</h1><p>{}</p><p><a href="{}">{}</a></p></html>',
            translation.get_language(),
            _("Open MojeID at localhost"),
            _(
                "In development MojeID runs at localhost, not at an IP address such as "
                "127.0.0.1: security keys work only there, and so does your sign-in. "
                "Open it again from:"
            ),
            home,
            home,
        )
    return HttpResponse(page, status=421)


class DatabaseBusyMiddleware:
    """A request that met a busy database gets 503 and "try again", never a 500.

    On the embedded SQLite every write transaction waits for the one write lock, up to
    `SQLITE_BUSY_TIMEOUT_SECONDS`; on PostgreSQL a lock timeout or a deadlock ends a transaction
    the same way. Either way the transaction rolled back whole, so the request changed nothing and
    may simply be sent again. JSON callers get JSON (`{"error": "busy"}`), browsers a page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not (isinstance(exception, OperationalError) and database_busy(exception)):
            return None
        message = _("MojeID is busy at the moment. Try again in a few seconds.")
        wants_json = request.accepts("application/json") and not request.accepts("text/html")
        if "/api/" in request.path or wants_json:
            response = JsonResponse({"error": "busy", "message": message}, status=503)
        else:
            response = render(request, "busy.html", {"message": message}, status=503)
        response["Retry-After"] = str(BUSY_RETRY_SECONDS)
        return response
