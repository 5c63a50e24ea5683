"""Security keys: adding, judging, using, renaming and removing them.

Each change runs in a transaction, writes an audit record and tells the user by e-mail (after
commit, through the outbox).
"""

import hashlib

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from fido2.webauthn import AttestationObject

from accounts.audit import record
from accounts.models import AuditEvent, User
from mojeid.messaging import queue_email

from .internal import webauthn
from .internal.attestation import Registration, judge, parse_registration
from .metadata import known_model
from .models import SecurityKey

MAX_KEYS = 10


def relying_party() -> webauthn.RelyingParty:
    return webauthn.RelyingParty(
        settings.WEBAUTHN_RP_ID, settings.WEBAUTHN_RP_NAME, list(settings.WEBAUTHN_ORIGINS)
    )


def user_handle(user: User) -> bytes:
    """An opaque, stable WebAuthn user handle that reveals neither the id nor the username."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:user-handle:{user.pk}".encode()).digest()


def apply_verdict(key: SecurityKey) -> None:
    """Judge the key's stored attestation against the metadata as it is now; keep the verdict."""
    registration = Registration(
        credential_id=webauthn.decode(key.credential_id),
        client_data_json=bytes(key.client_data_json),
        attestation_object=AttestationObject(bytes(key.attestation_object)),
        transports=list(key.transports),
    )
    verdict = judge(registration, known_model, timezone.now())
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
    request: HttpRequest | None = None,
) -> SecurityKey:
    """Store a key whose registration ceremony verified."""
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
        key.save()
        record(
            AuditEvent.Kind.SECURITY_KEY_ADDED,
            user=user,
            request=request,
            key=key.name,
            description=key.description,
            nia_eligible=key.nia_eligible,
        )
        _tell(user, "security_key_added", key)
    return key


def rename_key(key: SecurityKey, name: str, *, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        old, key.name = key.name, name
        key.save(update_fields=["name"])
        record(
            AuditEvent.Kind.SECURITY_KEY_RENAMED,
            user=key.user,
            request=request,
            old=old,
            new=name,
        )


def remove_key(key: SecurityKey, *, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        user, name = key.user, key.name
        key.delete()
        record(AuditEvent.Kind.SECURITY_KEY_REMOVED, user=user, request=request, key=name)
        _tell(user, "security_key_removed", key)


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


def _tell(user: User, template: str, key: SecurityKey) -> None:
    if user.profile.email:
        queue_email(user.profile.email, template, {"user": user, "key": key}, user.language)
