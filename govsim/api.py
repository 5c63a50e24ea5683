"""What the simulated systems' JSON APIs share: errors, API keys, and replayable cursor feeds.

Every refusal is a 4xx JSON object `{"error": code, "message": text}`. A client authenticates
with `Authorization: Bearer <key>`; only a SHA-256 of each key is stored. A feed is read "after"
a cursor (the id of the last item read, 0 at first) in pages of at most MAX_PAGE items; ids only
grow, so reading the same page twice gives the same items, and a client that lost its place
simply reads again from its last saved cursor.
"""

import hashlib
import secrets
from collections.abc import Callable
from functools import wraps

from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse

from .outage import is_down, unavailable_json

DEFAULT_PAGE, MAX_PAGE = 50, 200


class ApiError(Exception):
    def __init__(self, code: str, status: int, message: str):
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


def error_response(problem: ApiError) -> JsonResponse:
    return JsonResponse({"error": problem.code, "message": problem.message}, status=problem.status)


def new_api_key() -> str:
    return secrets.token_urlsafe(32)


def key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def bearer_key(request: HttpRequest) -> str:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError("unauthorized", 401, "send the API key as 'Authorization: Bearer <key>'")
    return key.strip()


def api_view(system: str, *, methods: tuple[str, ...] = ("GET",)) -> Callable:
    """A JSON endpoint of `system`: outage switch, allowed methods, ApiError → JSON."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def endpoint(request: HttpRequest, *args, **kwargs) -> JsonResponse:
            if is_down(system):
                return unavailable_json(system)
            if request.method not in methods:
                response = error_response(
                    ApiError("method_not_allowed", 405, f"use {' or '.join(methods)}")
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except ApiError as problem:
                return error_response(problem)

        return endpoint

    return decorate


def int_param(request: HttpRequest, name: str, default: int, *, low: int, high: int) -> int:
    """A whole-number query parameter between `low` and `high`, or `default` when absent.

    ASCII digits only, like the Czech POINT desk's numbers: int() would also take " 5", "+3",
    "1_000" and the digits of other scripts (fullwidth, Arabic-Indic…), which no client means.
    """
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    # The length bound keeps int() cheap; the range is checked below.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 20):
        raise ApiError("bad_request", 400, f"{name} must be a whole number in ASCII digits")
    value = int(raw)
    if not low <= value <= high:
        raise ApiError("bad_request", 400, f"{name} must be between {low} and {high}")
    return value


def feed_page(
    request: HttpRequest, queryset: QuerySet, serialize: Callable[[object], dict]
) -> JsonResponse:
    """One page of a feed ordered by id, after `?after=<cursor>`, at most `?limit=` items."""
    after = int_param(request, "after", 0, low=0, high=2**62)
    limit = int_param(request, "limit", DEFAULT_PAGE, low=1, high=MAX_PAGE)
    items = list(queryset.filter(pk__gt=after).order_by("pk")[: limit + 1])
    has_more = len(items) > limit
    items = items[:limit]
    return JsonResponse(
        {
            "items": [serialize(item) for item in items],
            "cursor": items[-1].pk if items else after,
            "has_more": has_more,
        }
    )


def lock_feed(feed: str) -> None:
    """Call inside the transaction that inserts a row of a cursor feed, before the insert.

    Ids come from a sequence when a row is inserted, but transactions may commit in another
    order; a reader could then see id 2, save cursor 2, and never see id 1 committed later. This
    transaction-level lock makes writers of one feed take their ids and commit one after the
    other, so a saved cursor never skips an item. SQLite has a single writer anyway.
    """
    if connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise RuntimeError("lock_feed must run inside the inserting transaction")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"govsim-feed:{feed}"])
