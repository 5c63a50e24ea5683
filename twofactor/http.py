"""The JSON bodies the portal's own scripts post (the key ceremonies), read one way."""

import json

from django.http import HttpRequest

from .flows import MAX_CREDENTIAL_JSON

MAX_BODY = MAX_CREDENTIAL_JSON


class BadBody(ValueError):
    """The body of a request to a JSON endpoint is not a JSON object (`status` says how)."""

    def __init__(self, why: str, status: int = 400):
        super().__init__(why)
        self.status = status


def json_body(request: HttpRequest) -> dict:
    """The JSON object the page's script posted; BadBody for anything else.

    Another content type is refused before the body is touched: CSRF has already read a form
    body, and a multipart one can no longer be read as bytes.
    """
    if request.content_type != "application/json":
        raise BadBody("not application/json", status=415)
    if len(request.body) > MAX_BODY:
        raise BadBody("too large")
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:  # JSONDecodeError, or bytes that are not UTF-8
        raise BadBody("not JSON") from None
    if not isinstance(data, dict):
        raise BadBody("not an object")
    return data
