"""Completing a link (`verified` → `active`): the authenticators are registered with NIA, then the
profile takes the register's data and is locked. Never half linked.

NIA is told from a state a task can reconcile (DESIGN §4): first, in one transaction, the link
becomes `activating` and each chosen authenticator gets a registration row that wants to be
active at NIA; then NIA is called for each (its writes are idempotent, so a repeat after a lost
answer is harmless) and each confirmation is recorded; when all agree, one transaction makes the
link `active`. If NIA fails half-way, every registration made is wanted ended instead and ended
at NIA, and the link goes back to `verified`: nothing changed, and the citizen may try again.
Whatever crashes in between, `reconcile` finishes the job from the rows once NIA answers.
"""

import contextlib
import uuid
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.audit import record
from accounts.models import AuditEvent, Profile, User
from accounts.notifications import tell
from accounts.services.profile import apply_register_data, lock_profile
from twofactor.eligibility import HIGH, eligible_authenticators, key_eligible
from twofactor.models import KlicDevice, SecurityKey

from .clients import nia
from .exceptions import (
    IllegalTransition,
    NiaUnavailable,
    SystemAnswerInvalid,
    SystemRefused,
    SystemUnavailable,
    VerificationRefused,
)
from .internal import eligibility
from .models import KeyVerification, Level, Link, LinkState, Registration, RegistrationState

# The help page's words when NIA could not be told: nothing changed, the citizen may try again.
NOT_COMPLETED = _("It is not possible to complete the access to public administration services.")
# A completion that made no progress for this long was interrupted: the task takes it over.
STALLED_AFTER = timedelta(minutes=2)

NIA_LEVELS = {"substantial": nia.Level.SUBSTANTIAL, "high": nia.Level.HIGH}
# The register's document kinds as NIA names them (`PrukazTotoznosti`).
DOCUMENT_KINDS = {"id_card": "ID", "passport": "P"}


def complete(user: User, *, actor: User, request=None) -> Link:
    """Complete the user's verified link. Returns the active link; raises NiaUnavailable (with
    the help page's message) when NIA could not be told, after undoing what it was told."""
    link = _begin(user, actor=actor, request=request)
    try:
        _tell_nia(link)
    except (SystemUnavailable, SystemAnswerInvalid, SystemRefused) as problem:
        _give_up(link, problem, actor=actor)
        raise NiaUnavailable(NOT_COMPLETED) from problem
    return _finish(link.pk, actor=actor)


def end_quietly(link_id: int) -> bool:
    """End an `ending` link's registrations at NIA now, if NIA answers; else `reconcile` will.
    True when the link is `cancelled`."""
    try:
        return _end_at_nia(Link.objects.get(pk=link_id))
    except (SystemUnavailable, SystemAnswerInvalid, SystemRefused):
        return False


def reconcile() -> dict:
    """Periodic: take over completions that stopped half-way (a crash, NIA down) and links
    still ending at NIA, and bring the portal and NIA to agree. Returns how many links it
    finished, undid, ended or left for later."""
    report = {"finished": 0, "undone": 0, "ended": 0, "waiting": 0}
    for link in Link.objects.filter(state=LinkState.ENDING):
        try:
            ended = _end_at_nia(link)
        except (SystemUnavailable, SystemAnswerInvalid, SystemRefused):
            ended = False
        report["ended" if ended else "waiting"] += 1
    # Authenticators removed from an active link: ended at NIA until it confirms.
    disagreeing = Registration.objects.filter(
        link=OuterRef("pk"), wanted=RegistrationState.ENDED
    ).exclude(at_nia=RegistrationState.ENDED)
    for link in Link.objects.filter(Exists(disagreeing), state=LinkState.ACTIVE):
        try:
            ended = _end_registrations(link, wanted_ended_only=True)
        except (SystemUnavailable, SystemAnswerInvalid, SystemRefused):
            ended = False
        if not ended:
            report["waiting"] += 1
    # Keys added to an active link ("Get" → Complete) that a crash left unconfirmed by NIA.
    # (Not one NIA suspended or ended on its side: its at_nia says so, and NIA decides there.)
    unconfirmed = Registration.objects.filter(
        link__state=LinkState.ACTIVE,
        wanted=RegistrationState.ACTIVE,
        at_nia="",
        updated_at__lt=timezone.now() - STALLED_AFTER,
    )
    for registration in unconfirmed.select_related("link"):
        try:
            _hold_active(registration.link, registration)
        except (SystemUnavailable, SystemAnswerInvalid, SystemRefused):
            report["waiting"] += 1
        else:
            report["finished"] += 1
    stalled = Link.objects.filter(
        state=LinkState.ACTIVATING, registrations__updated_at__lt=timezone.now() - STALLED_AFTER
    ).distinct()
    for link in stalled:
        try:
            _tell_nia(link)
        except (SystemUnavailable, SystemAnswerInvalid, SystemRefused):
            report["waiting"] += 1
            continue
        if link.registrations.filter(wanted=RegistrationState.ENDED).exists():
            _back_to_verified(link.pk)
            report["undone"] += 1
        else:
            _finish(link.pk, actor=None)
            report["finished"] += 1
    return report


def _begin(user: User, *, actor: User, request) -> Link:
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).exists()
        link = Link.objects.select_for_update().filter(user=user, state=LinkState.VERIFIED).first()
        if link is None:
            raise IllegalTransition("no verified link to complete")
        profile = Profile.objects.get(pk=user.pk)
        chosen = eligible_authenticators(user, link.level)
        problems = [
            *(["organisation"] if profile.organisation.strip() else []),
            *eligibility.authenticator_problems(chosen, link.level),
        ]
        if problems:
            raise VerificationRefused(problems)
        link.state = LinkState.ACTIVATING
        link.save(update_fields=["state"])
        for authenticator in chosen:
            is_klic = isinstance(authenticator, KlicDevice)
            Registration.objects.create(
                link=link,
                identifier=f"mojeid-{'klic' if is_klic else 'key'}-{uuid.uuid4()}",
                klic_device=authenticator if is_klic else None,
                security_key=None if is_klic else authenticator,
                level=link.level,
                wanted=RegistrationState.ACTIVE,
            )
    return link


def _tell_nia(link: Link) -> None:
    """Make NIA hold what each registration wants; record each confirmation as it comes.

    Each registration is read again just before its call: a cancel that came meanwhile (it
    wants them ended) is obeyed at once instead of registering what is no longer wanted."""
    for registration_id in link.registrations.values_list("pk", flat=True):
        registration = Registration.objects.filter(pk=registration_id).first()
        if registration is None or registration.at_nia == registration.wanted:
            continue
        level = NIA_LEVELS[registration.level]
        if registration.wanted == RegistrationState.ACTIVE:
            nia.register_authenticator(
                link.bsi,
                registration.identifier,
                level,
                nia.State.ACTIVE,
                verified_by_document=bool(link.identity_document),
                document_kind=DOCUMENT_KINDS.get(link.identity_document),
            )
        elif registration.at_nia:  # registered before: end it
            nia.change_authenticator(
                link.bsi, registration.identifier, level, nia.State.ENDED, "not completed"
            )
        Registration.objects.filter(pk=registration.pk).update(
            at_nia=registration.wanted, updated_at=timezone.now()
        )


def end_registrations_quietly(link_id: int) -> None:
    """End at NIA now the registrations of an active link that are wanted ended (a removed
    authenticator), if NIA answers; else `reconcile` will."""
    with contextlib.suppress(SystemUnavailable, SystemAnswerInvalid, SystemRefused):
        _end_registrations(Link.objects.get(pk=link_id), wanted_ended_only=True)


def _end_registrations(link: Link, *, wanted_ended_only: bool = False) -> bool:
    """Tell NIA the link's registrations are ended (only those wanted ended, or all); True when
    NIA holds every one of them ended. NENALEZEN counts as in `_end_at_nia`."""
    settled_before = timezone.now() - STALLED_AFTER
    registrations = link.registrations.exclude(at_nia=RegistrationState.ENDED)
    if wanted_ended_only:
        registrations = registrations.filter(wanted=RegistrationState.ENDED)
    for registration in registrations:
        try:
            nia.change_authenticator(
                link.bsi,
                registration.identifier,
                NIA_LEVELS[registration.level],
                nia.State.ENDED,
                link.end_reason,
            )
        except SystemRefused as refusal:
            if refusal.code != nia.NOT_FOUND:
                raise
            if not registration.at_nia and registration.updated_at > settled_before:
                continue  # its ZAPIS may be landing now: ask again later
        Registration.objects.filter(pk=registration.pk).update(
            at_nia=RegistrationState.ENDED, updated_at=timezone.now()
        )
    return not registrations.exclude(at_nia=RegistrationState.ENDED).exists()


def _end_at_nia(link: Link) -> bool:
    """Tell NIA every registration of an `ending` link is ended; then the link is `cancelled`.

    NIA answering that it has no such authenticator (NENALEZEN) proves it was never registered
    only once no registration of a Complete can still be on its way: a link cancelled while
    being completed may have a ZAPIS in flight that lands after our question. Such an answer
    counts only for a registration untouched for STALLED_AFTER (far beyond a call's timeout);
    until then the link stays `ending` and `reconcile` asks again."""
    if not _end_registrations(link):
        return False
    with transaction.atomic():
        if link.registrations.exclude(at_nia=RegistrationState.ENDED).exists():
            return False
        updated = Link.objects.filter(pk=link.pk, state=LinkState.ENDING).update(
            state=LinkState.CANCELLED
        )
    return bool(updated)


def _give_up(link: Link, problem: Exception, *, actor: User | None) -> None:
    """NIA failed half-way: want every registration ended, try to end them now (a task goes on
    if NIA is down), and return the link to `verified` once NIA agrees."""
    Registration.objects.filter(link=link).update(
        wanted=RegistrationState.ENDED, updated_at=timezone.now()
    )
    record(
        AuditEvent.Kind.NIA_LINK_NOT_COMPLETED,
        user=link.user,
        actor=actor,
        link=link.pk,
        problem=str(problem)[:200],
        registrations=list(link.registrations.values_list("identifier", flat=True)),
    )
    try:
        _tell_nia(link)
    except (SystemUnavailable, SystemAnswerInvalid, SystemRefused):
        return  # `reconcile` ends them when NIA is back; the link waits in `activating`
    _back_to_verified(link.pk)


def _back_to_verified(link_id: int) -> None:
    with transaction.atomic():
        link = Link.objects.select_for_update().get(pk=link_id)
        if link.state != LinkState.ACTIVATING:
            return
        # NIA holds them ended; the audit row of the attempt names them. A new attempt starts
        # from no registrations, so that its own are the only ones it waits for.
        link.registrations.filter(wanted=RegistrationState.ENDED).delete()
        link.state = LinkState.VERIFIED
        link.save(update_fields=["state"])


def _finish(link_id: int, *, actor: User | None) -> Link:
    with transaction.atomic():
        link = Link.objects.select_for_update().select_related("user").get(pk=link_id)
        if link.state == LinkState.ACTIVE:
            return link
        if (
            link.state != LinkState.ACTIVATING
            or link.registrations.exclude(at_nia=RegistrationState.ACTIVE).exists()
        ):
            raise IllegalTransition(f"a {link.state} link cannot be finished")
        user = link.user
        apply_register_data(user, profile_data(link.register_data), actor=actor, source="nia")
        lock_profile(user, actor=actor, reason="nia_link", organisation=True)
        link.state, link.activated_at = LinkState.ACTIVE, timezone.now()
        link.save(update_fields=["state", "activated_at"])
        record(
            AuditEvent.Kind.NIA_LINK_ACTIVATED,
            user=user,
            actor=actor,
            link=link.pk,
            level=link.level,
            registrations=list(link.registrations.values_list("identifier", flat=True)),
        )
        transaction.on_commit(lambda: tell(user, "nia_link_active", link=link))
    return link


def profile_data(register_data: dict) -> dict:
    """The profile's identity fields from the register's data the link keeps."""
    address = register_data.get("address") or {}
    number = "/".join(
        part for part in (address.get("house_number"), address.get("orientation_number")) if part
    )
    street = address.get("street") or address.get("municipality_part") or ""
    return {
        "first_name": register_data["first_names"],
        "last_name": register_data["last_name"],
        "birth_date": register_data["birth_date"],
        "street": f"{street} {number}".strip(),
        "city": address.get("municipality", ""),
        "postal_code": address.get("postal_code", ""),
        "country": "CZ",
        "address_point_code": address.get("address_point_code"),
    }


# --- One more key for an active link ("Get") -------------------------------------------------

#: How long a verification at NIA for a key may wait for Complete.
KEY_VERIFICATION_VALID = timedelta(minutes=30)


def add_key(user: User, key: SecurityKey, *, actor: User, request=None) -> Registration:
    """Complete for a later key: NIA verified lately that the person is the link's
    (`KeyVerification`); the key is registered with NIA at the level that proof and the key's
    certification allow — or, registered already at substantial, raised to high.

    Like `complete`: first the row (wanting it active at NIA, confirmation unknown), then NIA,
    then the confirmation; if NIA fails the change is undone the same way (the key is wanted
    ended, a raised level goes back), NiaUnavailable says so, and `reconcile` makes NIA agree
    whatever crashed in between. IllegalTransition when there is nothing to complete."""
    registration, previous_level = _begin_key(user, key, actor=actor, request=request)
    try:
        _hold_active(registration.link, registration)
    except (SystemUnavailable, SystemAnswerInvalid, SystemRefused) as problem:
        _undo_key(registration, previous_level, problem, actor=actor)
        raise NiaUnavailable(NOT_COMPLETED) from problem
    with transaction.atomic():
        record(
            AuditEvent.Kind.NIA_KEY_ADDED,
            user=user,
            actor=actor,
            request=request,
            link=registration.link_id,
            key=key.name,
            level=registration.level,
            registration=registration.identifier,
        )
        transaction.on_commit(
            lambda: tell(user, "nia_link_key_added", key=key, level=registration.level)
        )
    registration.refresh_from_db()
    return registration


def can_raise(key: SecurityKey) -> bool:
    """Whether the key, registered with NIA at substantial, may be raised to high (certified L2
    or higher and added with its PIN or biometrics)."""
    return (
        key_eligible(key, HIGH)
        and Registration.objects.filter(
            security_key=key,
            link__state=LinkState.ACTIVE,
            wanted=RegistrationState.ACTIVE,
            level=Level.SUBSTANTIAL,
        ).exists()
    )


def key_verification(user: User, key: SecurityKey) -> KeyVerification | None:
    """The recent, unused verification at NIA for this key, if any."""
    return (
        KeyVerification.objects.filter(
            security_key=key,
            link__user=user,
            link__state=LinkState.ACTIVE,
            completed_at=None,
            verified_at__gte=timezone.now() - KEY_VERIFICATION_VALID,
        )
        .order_by("-verified_at")
        .first()
    )


def _begin_key(user: User, key: SecurityKey, *, actor: User, request) -> tuple[Registration, str]:
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).exists()
        link = Link.objects.select_for_update().filter(user=user, state=LinkState.ACTIVE).first()
        proof = key_verification(user, key)
        if link is None or proof is None or proof.link_id != link.pk:
            raise IllegalTransition("no recent verification for this key")
        level = (
            Level.HIGH
            if proof.level == Level.HIGH and key_eligible(key, HIGH)
            else Level.SUBSTANTIAL
        )
        if not key_eligible(key, level):
            raise VerificationRefused(["authenticator"])
        KeyVerification.objects.filter(pk=proof.pk).update(completed_at=timezone.now())
        registration = link.registrations.filter(
            security_key=key, wanted=RegistrationState.ACTIVE
        ).first()
        if registration is not None:
            if registration.level == level or level != Level.HIGH:
                raise IllegalTransition("the key has this access already")
            previous = registration.level
            Registration.objects.filter(pk=registration.pk).update(
                level=level, at_nia="", updated_at=timezone.now()
            )
        else:
            previous = ""
            registration = Registration.objects.create(
                link=link,
                identifier=f"mojeid-key-{uuid.uuid4()}",
                security_key=key,
                level=level,
                wanted=RegistrationState.ACTIVE,
            )
    registration.refresh_from_db()
    return registration, previous


def _hold_active(link: Link, registration: Registration) -> None:
    """Make NIA hold the registration active at its level: a ZAPIS, or — registered already
    with another level — a ZMENA; then record NIA's confirmation."""
    level = NIA_LEVELS[registration.level]
    try:
        nia.register_authenticator(
            link.bsi,
            registration.identifier,
            level,
            nia.State.ACTIVE,
            verified_by_document=bool(link.identity_document),
            document_kind=DOCUMENT_KINDS.get(link.identity_document),
        )
    except SystemRefused as refusal:
        if refusal.code != nia.EXISTS:
            raise
        nia.change_authenticator(
            link.bsi, registration.identifier, level, nia.State.ACTIVE, "level changed"
        )
    Registration.objects.filter(pk=registration.pk, wanted=RegistrationState.ACTIVE).update(
        at_nia=RegistrationState.ACTIVE, updated_at=timezone.now()
    )


def _undo_key(registration: Registration, previous_level: str, problem, *, actor) -> None:
    """NIA failed: a new key is wanted ended (ended at NIA now or by `reconcile`), a raised one
    goes back to its level (`reconcile` tells NIA if it heard of the raise)."""
    if previous_level:
        Registration.objects.filter(pk=registration.pk).update(
            level=previous_level, at_nia="", updated_at=timezone.now()
        )
        with contextlib.suppress(SystemUnavailable, SystemAnswerInvalid, SystemRefused):
            registration.refresh_from_db()
            _hold_active(registration.link, registration)
    else:
        Registration.objects.filter(pk=registration.pk).update(
            wanted=RegistrationState.ENDED, updated_at=timezone.now()
        )
        end_registrations_quietly(registration.link_id)
    record(
        AuditEvent.Kind.NIA_LINK_NOT_COMPLETED,
        user=registration.link.user,
        actor=actor,
        link=registration.link_id,
        problem=str(problem)[:200],
        registrations=[registration.identifier],
    )
