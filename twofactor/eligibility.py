"""Which of a user's authenticators may stand for a level of assurance: all that `twofactor`
knows about NIA (DESIGN §3). The NIA link asks; it decides nothing about keys itself.

*Substantial*: a security key the metadata found eligible (certified L1 or higher, trusted
attestation, not under suspicion of cloning) that its owner allowed for public administration
services, or a confirmed MojeID Klíč that is not blocked. *High*: that Klíč, or such a key
certified L2 or higher that was registered with user verification (its PIN or biometrics).
"""

from fido2.webauthn import AttestationObject

from accounts.models import User

from .models import CertificationLevel, KlicDevice, SecurityKey

SUBSTANTIAL, HIGH = "substantial", "high"
LEVELS = (SUBSTANTIAL, HIGH)

HIGH_CERTIFICATIONS = {
    CertificationLevel.L2,
    CertificationLevel.L2PLUS,
    CertificationLevel.L3,
    CertificationLevel.L3PLUS,
}


def registered_with_user_verification(key: SecurityKey) -> bool:
    """Whether the authenticator verified its user (PIN, biometrics) when the key was added: the
    UV flag of the authenticator data it signed then."""
    try:
        return AttestationObject(bytes(key.attestation_object)).auth_data.is_user_verified()
    except (ValueError, TypeError, LookupError):  # not a readable attestation object
        return False


def key_eligible(key: SecurityKey, level: str) -> bool:
    """Whether this security key may stand for `level`."""
    if not (key.nia_eligible and key.use_for_public_administration) or key.possibly_cloned:
        return False
    if level == SUBSTANTIAL:
        return True
    return key.certification_level in HIGH_CERTIFICATIONS and registered_with_user_verification(key)


def klic_eligible(device: KlicDevice, level: str) -> bool:
    """Whether this MojeID Klíč may stand for `level` (either level: it is the high one)."""
    return device.confirmed and not device.blocked and level in LEVELS


def eligible_authenticators(user: User, level: str) -> list[SecurityKey | KlicDevice]:
    """The user's authenticators that may stand for `level`: keys oldest first, then the Klíč."""
    keys = [key for key in user.security_keys.order_by("created_at") if key_eligible(key, level)]
    devices = [
        device
        for device in user.klic_devices.filter(confirmed=True)
        if klic_eligible(device, level)
    ]
    return [*keys, *devices]
