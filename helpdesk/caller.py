"""Verifying a caller on the helpdesk line, without reading their data out.

The help page promises: "Helpdesk will ask you for several details from your profile (first name,
last name, birth date, permanent address, e-mail, telephone) to verify your identity." The
operator types what the caller says; `check` answers only match / no match for each of the six
details — never a stored value — and, when all six match, opens a verified window of
`WINDOW` for that operator and that account (`VerifiedCall`); no other operator inherits it.

Names are compared without regard to case and surrounding spaces but with their diacritics; the
address by its parts (street and number, city, postal code); the phone in E.164. Every attempt is
audited with the operator as actor (which details matched, never what was typed). `MAX_FAILURES`
failed attempts on one account within `LOCK` lock the check for that account until the oldest of
them is `LOCK` old: the account's page shows an alert meanwhile.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.audit import record
from accounts.models import AuditEvent, Profile, User
from accounts.validators import normalize_phone

from .models import VerifiedCall

WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5
LOCK = timedelta(hours=1)
DETAILS = ("first_name", "last_name", "birth_date", "address", "email", "phone")


@dataclass(frozen=True)
class Answers:
    """What the caller said, as the operator typed it."""

    first_name: str
    last_name: str
    birth_date: date | None
    street: str
    city: str
    postal_code: str
    email: str
    phone: str


@dataclass(frozen=True)
class Outcome:
    """Match or no match per detail; whether the caller is verified now; whether the check was
    refused because the account is locked (then `matches` is empty)."""

    matches: dict[str, bool]
    verified: bool
    locked_until: datetime | None = None


def _name(value: str) -> str:
    return " ".join((value or "").split()).casefold()


def _postal_code(value: str) -> str:
    return "".join((value or "").split())


def _phone(value: str) -> str | None:
    try:
        return normalize_phone(value or "")
    except ValidationError:
        return None


def _matches(profile: Profile, answers: Answers) -> dict[str, bool]:
    typed_phone = _phone(answers.phone)
    return {
        "first_name": bool(profile.first_name)
        and _name(profile.first_name) == _name(answers.first_name),
        "last_name": bool(profile.last_name)
        and _name(profile.last_name) == _name(answers.last_name),
        "birth_date": profile.birth_date is not None and profile.birth_date == answers.birth_date,
        "address": bool(profile.street and profile.city and profile.postal_code)
        and _name(profile.street) == _name(answers.street)
        and _name(profile.city) == _name(answers.city)
        and _postal_code(profile.postal_code) == _postal_code(answers.postal_code),
        "email": bool(profile.email) and _name(profile.email) == _name(answers.email),
        "phone": bool(profile.phone) and typed_phone is not None and typed_phone == profile.phone,
    }


def locked_until(account: User) -> datetime | None:
    """Until when the check is locked for `account` (MAX_FAILURES failures within LOCK), or
    None."""
    failures = list(
        AuditEvent.objects.filter(
            user=account,
            kind=AuditEvent.Kind.HELPDESK_CALLER_NOT_VERIFIED,
            created_at__gte=timezone.now() - LOCK,
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:MAX_FAILURES]
    )
    if len(failures) < MAX_FAILURES:
        return None
    return failures[-1] + LOCK


def check(
    operator: User, account: User, answers: Answers, *, request: HttpRequest | None = None
) -> Outcome:
    """Compare the caller's answers with the account's profile (see the module docstring)."""
    with transaction.atomic():
        # One check at a time per account: the count of failures is read and written together.
        User.objects.select_for_update().filter(pk=account.pk).exists()
        until = locked_until(account)
        if until is not None:
            record(
                AuditEvent.Kind.HELPDESK_CALLER_CHECK_LOCKED,
                user=account,
                actor=operator,
                request=request,
            )
            return Outcome(matches={}, verified=False, locked_until=until)
        matches = _matches(Profile.objects.get(pk=account.pk), answers)
        verified = all(matches.values())
        record(
            AuditEvent.Kind.HELPDESK_CALLER_VERIFIED
            if verified
            else AuditEvent.Kind.HELPDESK_CALLER_NOT_VERIFIED,
            user=account,
            actor=operator,
            request=request,
            matched=[name for name in DETAILS if matches[name]],
        )
        if verified:
            VerifiedCall.objects.create(
                operator=operator, account=account, until=timezone.now() + WINDOW
            )
        return Outcome(
            matches=matches,
            verified=verified,
            locked_until=None if verified else locked_until(account),
        )


def verified_until(operator: User, account: User) -> datetime | None:
    """The end of `operator`'s open verified window for `account`, or None."""
    call = (
        VerifiedCall.objects.filter(operator=operator, account=account, until__gt=timezone.now())
        .order_by("-until")
        .first()
    )
    return call.until if call else None


def mask_email(value: str | None) -> str:
    """j•••@e•••.cz: enough to tell two accounts apart, not to read the address out."""
    if not value or "@" not in value:
        return "—"
    local, _, domain = value.partition("@")
    host, dot, tld = domain.rpartition(".")
    return f"{local[:1]}•••@{(host or tld)[:1]}•••{dot}{tld if host else ''}"


def mask_phone(value: str | None) -> str:
    """+420 ••• ••• 456: the last three digits only."""
    if not value:
        return "—"
    return f"{value[:4]} ••• ••• {value[-3:]}"
