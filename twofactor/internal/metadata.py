"""FIDO Metadata Service (MDS3) entries: parsing one entry and judging its status reports.

Pure functions, no database: `parse_entry` turns one entry of a BLOB payload into `ParsedEntry`
or raises `MalformedEntry`; `evaluate_status` says, for a given day, which certification level is
in force and whether the model is still trusted.
"""

import base64
import binascii
import re
import uuid
from dataclasses import dataclass, field
from datetime import date

# Certification levels in rising order. A bare FIDO_CERTIFIED is functional certification only:
# it is not a security level.
LEVELS = (
    "FIDO_CERTIFIED_L1",
    "FIDO_CERTIFIED_L1plus",
    "FIDO_CERTIFIED_L2",
    "FIDO_CERTIFIED_L2plus",
    "FIDO_CERTIFIED_L3",
    "FIDO_CERTIFIED_L3plus",
)
# Statuses after which the model's keys must not be trusted (MDS3 §3.1.4, AuthenticatorStatus).
COMPROMISED = frozenset(
    {
        "REVOKED",
        "ATTESTATION_KEY_COMPROMISE",
        "USER_VERIFICATION_BYPASS",
        "USER_KEY_REMOTE_COMPROMISE",
        "USER_KEY_PHYSICAL_COMPROMISE",
    }
)
# A later report of this status ends every certification before it.
DECERTIFIED = "NOT_FIDO_CERTIFIED"
PROTOCOL_FAMILIES = ("fido2", "u2f", "uaf")
_KEY_IDENTIFIER_RE = re.compile(r"^[0-9a-f]{40}$")


class MalformedEntry(ValueError):
    """One metadata entry cannot be used; the message says why."""


@dataclass(frozen=True)
class StatusVerdict:
    certification_level: str | None  # the highest level in force, or None
    trusted: bool  # False once a compromise or revocation is in force
    statuses: tuple[str, ...]  # every status in force, oldest first (unknown ones too, for display)


@dataclass
class ParsedEntry:
    entry_key: str  # a natural key for upserts: aaguid:…, aaid:… or aki:… (the smallest)
    protocol_family: str
    description: str
    aaguid: uuid.UUID | None
    aaid: str | None
    key_identifiers: list[str]
    root_certificates: list[str]  # base64 DER, as in the metadata statement
    root_public_keys: list[str]  # base64 SPKI; our extension, honoured for the dev supplement only
    status_reports: list[dict]
    statement: dict = field(repr=False)


def _base64_list(statement: dict, name: str) -> list[str]:
    values = statement.get(name) or []
    if not isinstance(values, list):
        raise MalformedEntry(f"{name} is not a list")
    for value in values:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise MalformedEntry(f"an item of {name} is not base64") from None
    return values


def _date(value, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise MalformedEntry(f"{what} is not a date: {value!r}") from None


def parse_entry(entry: dict) -> ParsedEntry:
    """Validate what we rely on in one MDS3 entry; everything else is kept as it is."""
    if not isinstance(entry, dict):
        raise MalformedEntry("entry is not an object")
    statement = entry.get("metadataStatement")
    if not isinstance(statement, dict):
        raise MalformedEntry("no metadataStatement")
    description = statement.get("description")
    if not isinstance(description, str) or not description.strip():
        raise MalformedEntry("no description")
    family = statement.get("protocolFamily")
    if family not in PROTOCOL_FAMILIES:
        raise MalformedEntry(f"unknown protocolFamily {family!r}")

    aaguid = None
    if entry.get("aaguid") is not None:
        try:
            aaguid = uuid.UUID(entry["aaguid"])
        except (TypeError, ValueError, AttributeError):
            raise MalformedEntry(f"aaguid is not a UUID: {entry['aaguid']!r}") from None
    aaid = entry.get("aaid")
    if aaid is not None and not isinstance(aaid, str):
        raise MalformedEntry("aaid is not a string")
    key_identifiers = entry.get("attestationCertificateKeyIdentifiers") or []
    if not isinstance(key_identifiers, list):
        raise MalformedEntry("attestationCertificateKeyIdentifiers is not a list")
    # The real metadata lists some identifiers twice within one entry: keep each once, in order.
    key_identifiers = list(dict.fromkeys(str(kid).lower() for kid in key_identifiers))
    for kid in key_identifiers:
        if not _KEY_IDENTIFIER_RE.match(kid):
            raise MalformedEntry(f"attestation key identifier is not 40 hex digits: {kid!r}")
    if aaguid is None and aaid is None and not key_identifiers:
        raise MalformedEntry("neither aaguid, aaid nor attestationCertificateKeyIdentifiers")

    roots = _base64_list(statement, "attestationRootCertificates")
    pinned = _base64_list(statement, "attestationRootPublicKeys")

    reports = entry.get("statusReports")
    if not isinstance(reports, list) or not reports:
        raise MalformedEntry("no statusReports")
    for report in reports:
        if not isinstance(report, dict) or not isinstance(report.get("status"), str):
            raise MalformedEntry("a status report has no status")
        if report.get("effectiveDate") is not None:
            _date(report["effectiveDate"], "effectiveDate")

    if aaguid is not None:
        entry_key = f"aaguid:{aaguid}"
    elif aaid is not None:
        entry_key = f"aaid:{aaid}"
    else:
        entry_key = f"aki:{min(key_identifiers)}"
    return ParsedEntry(
        entry_key=entry_key,
        protocol_family=family,
        description=description.strip(),
        aaguid=aaguid,
        aaid=aaid,
        key_identifiers=key_identifiers,
        root_certificates=roots,
        root_public_keys=pinned,
        status_reports=reports,
        statement=statement,
    )


def evaluate_status(reports: list[dict], today: date) -> StatusVerdict:
    """The certification level and trust in force on `today`.

    Reports take effect on their effectiveDate (no date: at once) and are read in that order.
    Certifications accumulate until a NOT_FIDO_CERTIFIED report ends them; a compromise or a
    revocation in force makes the model untrusted for good. Unknown statuses change nothing.
    """
    in_force = sorted(
        (
            report
            for report in reports
            if report.get("effectiveDate") is None
            or date.fromisoformat(report["effectiveDate"]) <= today
        ),
        key=lambda report: report.get("effectiveDate") or "",
    )
    levels: set[str] = set()
    trusted = True
    for report in in_force:
        status = report["status"]
        if status in LEVELS:
            levels.add(status)
        elif status == DECERTIFIED:
            levels.clear()
        elif status in COMPROMISED:
            trusted = False
    level = max(levels, key=LEVELS.index) if levels else None
    return StatusVerdict(level, trusted, tuple(report["status"] for report in in_force))
