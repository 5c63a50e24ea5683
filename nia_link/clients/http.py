"""JSON over HTTP to the state systems, the one way every client here calls them.

A call has a timeout, a cap on the answer's size and typed errors (`nia_link.exceptions`): the
system could not be reached or is down (`SystemUnavailable`), it refused (`SystemRefused`, with
its reason), or it answered something its interface does not promise (`SystemAnswerInvalid`).
The caller never sees a socket error, an HTML page or a traceback of the JSON decoder.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime
from urllib.error import HTTPError
from urllib.parse import urlencode, urljoin, urlsplit
from urllib.request import Request, urlopen

from django.conf import settings

from ..exceptions import SystemAnswerInvalid, SystemRefused, SystemUnavailable

# The largest answer read: a feed page of a hundred items is a few tens of kilobytes.
MAX_ANSWER_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class System:
    """One state system's API as the portal reaches it."""

    name: str  # "rob", "isds" or "nia"
    url: str  # the API's base, ending with a slash
    key: str
    timeout: float

    @classmethod
    def configured(cls, name: str) -> "System":
        """The system as the settings name it (`STATE_SYSTEMS`)."""
        entry = settings.STATE_SYSTEMS[name]
        return cls(name, entry["url"], entry["key"], settings.STATE_SYSTEMS_TIMEOUT_SECONDS)


def call(
    system: System,
    method: str,
    path: str,
    *,
    query: dict | None = None,
    body: dict | None = None,
) -> dict:
    """`method` `path` (relative to the system's base) with `query` and a JSON `body`; the JSON
    object answered. Raises the typed errors of the module docstring."""
    address = urljoin(system.url, path)
    if urlsplit(address).scheme not in ("http", "https") or not system.key:
        raise SystemUnavailable(system.name, "not configured (STATE_SYSTEMS)")
    if query:
        address += "?" + urlencode(query)
    data = None if body is None else json.dumps(body).encode("utf-8")
    # Only http(s), checked above; urllib redirects to no other scheme.
    request = Request(address, data=data, method=method)  # noqa: S310
    request.add_header("Authorization", f"Bearer {system.key}")
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urlopen(request, timeout=system.timeout) as response:  # noqa: S310
            status, raw = response.status, response.read(MAX_ANSWER_BYTES + 1)
    except HTTPError as error:
        status, raw = error.code, _read_quietly(error)
    except OSError as error:  # refused, reset, timed out, no such host (URLError is one too)
        raise SystemUnavailable(system.name, str(getattr(error, "reason", error))) from None
    if status >= 500:
        raise SystemUnavailable(system.name, f"HTTP {status}")
    if status >= 400:
        try:
            answer = _decode(system, raw)
        except SystemAnswerInvalid:
            answer = {}
        code = answer.get("error") if isinstance(answer, dict) else None
        message = answer.get("message") if isinstance(answer, dict) else None
        raise SystemRefused(
            system.name,
            code if isinstance(code, str) else f"http_{status}",
            message if isinstance(message, str) else "",
        )
    answer = _decode(system, raw)
    if not isinstance(answer, dict):
        raise SystemAnswerInvalid(system.name, "the answer is not a JSON object")
    return answer


def document(system_name: str, address: str) -> bytes:
    """The bytes at `address` (a document the system publishes, such as SAML metadata: no key,
    not JSON), with the same timeout and size cap as `call`."""
    if urlsplit(address).scheme not in ("http", "https"):
        raise SystemUnavailable(system_name, "not configured")
    timeout = settings.STATE_SYSTEMS_TIMEOUT_SECONDS
    try:
        with urlopen(Request(address), timeout=timeout) as response:  # noqa: S310 - http(s) only
            raw = response.read(MAX_ANSWER_BYTES + 1)
    except OSError as error:  # refused, timed out, an HTTP error status (HTTPError is one too)
        raise SystemUnavailable(system_name, str(getattr(error, "reason", error))) from None
    if len(raw) > MAX_ANSWER_BYTES:
        raise SystemAnswerInvalid(system_name, f"the document is over {MAX_ANSWER_BYTES} bytes")
    return raw


def _read_quietly(error: HTTPError) -> bytes:
    try:
        return error.read(MAX_ANSWER_BYTES + 1)
    except OSError:
        return b""


def _decode(system: System, raw: bytes) -> object:
    if len(raw) > MAX_ANSWER_BYTES:
        raise SystemAnswerInvalid(system.name, f"the answer is over {MAX_ANSWER_BYTES} bytes")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SystemAnswerInvalid(system.name, "the answer is not JSON") from None


def field(system: System, data: dict, name: str, kind: type | tuple[type, ...]):
    """`data[name]`, which the interface promises to be of `kind`; SystemAnswerInvalid if it is
    missing or of another type (a bool is not an int)."""
    value = data.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _types(kind)):
        raise SystemAnswerInvalid(system.name, f"{name!r} is missing or not {_names(kind)}")
    return value


def _types(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _names(kind: type | tuple[type, ...]) -> str:
    return " or ".join(t.__name__ for t in _types(kind))


def optional(system: System, data: dict, name: str, kind: type):
    """`data[name]` of `kind`, or None when it is missing or null."""
    return None if data.get(name) is None else field(system, data, name, kind)


def objects(system: System, data: dict, name: str) -> list[dict]:
    """`data[name]`, a list of JSON objects (a feed page's items)."""
    items = field(system, data, name, list)
    if not all(isinstance(item, dict) for item in items):
        raise SystemAnswerInvalid(system.name, f"{name!r} holds something that is not an object")
    return items


def date_field(system: System, data: dict, name: str) -> date:
    """`data[name]`, an ISO date."""
    try:
        return date.fromisoformat(field(system, data, name, str))
    except ValueError:
        raise SystemAnswerInvalid(system.name, f"{name!r} is not a date") from None


def datetime_field(system: System, data: dict, name: str) -> datetime:
    """`data[name]`, an ISO date and time."""
    try:
        return datetime.fromisoformat(field(system, data, name, str))
    except ValueError:
        raise SystemAnswerInvalid(system.name, f"{name!r} is not a date and time") from None
