"""Changing the profile, and the profile lock.

`update_profile` is how the user, the admin or a command edits the profile; on a locked profile it
refuses identity fields (the model guard raises ProfileLocked). `apply_register_data` is the one
way locked fields change: with data from the base register. `lock_profile`/`unlock_profile` are
called by whatever decides about the lock (the NIA link); this module does not know why.
"""

from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..audit import record
from ..models import (
    ADDRESS_FIELDS,
    LOCKED_FIELDS,
    PROFILE_FIELDS,
    AuditEvent,
    Profile,
    User,
    identity_writes_allowed,
)

# What `update_profile` changes; the register's data (`apply_register_data`) is LOCKED_FIELDS.
EDITABLE_FIELDS = frozenset(PROFILE_FIELDS)
REGISTER_FIELDS = frozenset(LOCKED_FIELDS)


def update_profile(user: User, changes: dict, *, actor: User, request=None) -> list[str]:
    """Apply `changes` (identity fields, organisation) to the profile; returns the names that
    changed.

    Raises ProfileLocked when the profile is locked and a locked field would change.
    """
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not profile fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        profile = Profile.objects.select_for_update().get(pk=user.pk)
        changed = _assign(profile, changes)
        if set(changed) & set(ADDRESS_FIELDS) and profile.address_point_code is not None:
            # The citizen's own address is no longer the register's address point.
            profile.address_point_code = None
            changed.append("address_point_code")
        if changed:
            profile.save(update_fields=[*changed, "updated_at"])
            record(
                AuditEvent.Kind.PROFILE_UPDATED,
                user=user,
                actor=actor,
                request=request,
                fields=changed,
            )
    return changed


def apply_register_data(user: User, data: dict, *, actor: User | None, source: str) -> list[str]:
    """Overwrite identity fields with data from the base register, locked or not."""
    unknown = set(data) - REGISTER_FIELDS
    if unknown:
        raise ValueError(f"not register fields: {', '.join(sorted(unknown))}")
    with transaction.atomic(), identity_writes_allowed():
        profile = Profile.objects.select_for_update().get(pk=user.pk)
        changed = _assign(profile, data)
        if changed:
            profile.save(update_fields=[*changed, "updated_at"])
        record(
            AuditEvent.Kind.REGISTER_DATA_APPLIED,
            user=user,
            actor=actor,
            fields=changed,
            source=source,
        )
    return changed


def lock_profile(
    user: User, *, actor: User | None, reason: str, organisation: bool = False
) -> None:
    """Lock the identity fields; with `organisation`, the Organisation field too (a link to NIA
    is for natural non-business persons, so it is locked empty)."""
    with transaction.atomic(), identity_writes_allowed():
        profile = Profile.objects.select_for_update().get(pk=user.pk)
        if profile.is_locked and profile.organisation_locked >= organisation:
            return
        Profile.objects.filter(pk=user.pk).update(
            locked_at=profile.locked_at or timezone.now(),
            organisation_locked=profile.organisation_locked or organisation,
        )
        record(
            AuditEvent.Kind.PROFILE_LOCKED,
            user=user,
            actor=actor,
            reason=reason,
            organisation=organisation,
        )


def unlock_profile(user: User, *, actor: User | None, reason: str) -> None:
    with transaction.atomic(), identity_writes_allowed():
        updated = (
            Profile.objects.filter(pk=user.pk)
            .filter(Q(locked_at__isnull=False) | Q(organisation_locked=True))
            .update(locked_at=None, organisation_locked=False)
        )
        if updated:
            record(AuditEvent.Kind.PROFILE_UNLOCKED, user=user, actor=actor, reason=reason)


def _assign(profile: Profile, values: dict) -> list[str]:
    changed = []
    for name, value in values.items():
        if isinstance(value, str):
            value = value.strip()
        if name == "birth_date" and isinstance(value, str) and value:
            value = date.fromisoformat(value)
        if getattr(profile, name) != value:
            setattr(profile, name, value)
            changed.append(name)
    return changed
