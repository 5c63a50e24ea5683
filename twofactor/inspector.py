"""The attestation inspector for support: what a registration says about its security key.

Used by `manage.py inspect_attestation FILE` and the helpdesk admin form. Challenge and origin are
not checked: the data comes from another site or a debugging tool. Both show the verdict through
`report` / `report_json`, so the command's output and the admin page's raw report are the same.
"""

import json

from django.utils import timezone

from .internal.attestation import MalformedRegistration, Verdict, judge, parse_registration
from .metadata import known_model


class InspectionError(ValueError):
    """The input is not a registration we can read; the message is one line for the user."""


def inspect(text: str) -> Verdict:
    """Judge a registration response given as JSON text, against the metadata as it is now."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as problem:
        raise InspectionError(f"not JSON: {problem.msg} at line {problem.lineno}") from None
    except RecursionError:  # deeply nested arrays: valid JSON, but no registration either
        raise InspectionError("not JSON: nested too deeply") from None
    try:
        registration = parse_registration(data)
    except MalformedRegistration as problem:
        raise InspectionError(str(problem)) from None
    # A statement that does not verify, however odd, is part of the verdict, not an error.
    return judge(registration, known_model, timezone.now())


def report(verdict: Verdict) -> dict:
    """The verdict as a JSON-ready dict: the fields support sees, named as in the command."""
    return verdict.as_dict()


def report_json(verdict: Verdict) -> str:
    """The report as indented JSON text, non-ASCII characters kept as they are."""
    return json.dumps(report(verdict), ensure_ascii=False, indent=2)
