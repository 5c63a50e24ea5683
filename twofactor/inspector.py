"""The attestation inspector for support: what a registration says about its security key.

Used by `manage.py inspect_attestation FILE` and the helpdesk admin form. Challenge and origin are
not checked: the data comes from another site or a debugging tool.
"""

import json

from django.utils import timezone

from .internal.attestation import MalformedRegistration, Verdict, judge, parse_registration
from .metadata import known_model


class InspectionError(ValueError):
    """The input is not a registration we can read; the message is one line for the user."""


def inspect(text: str) -> Verdict:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as problem:
        raise InspectionError(f"not JSON: {problem.msg} at line {problem.lineno}") from None
    try:
        registration = parse_registration(data)
    except MalformedRegistration as problem:
        raise InspectionError(str(problem)) from None
    return judge(registration, known_model, timezone.now())
