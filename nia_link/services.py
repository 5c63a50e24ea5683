"""Domain operations of the NIA link: one function per transition of the state machine in
DESIGN.md §4.

Each runs in a transaction, locks the link (or, to file a request, the account) with
`select_for_update`, checks the state it starts from, writes an audit row with the acting user,
and sends its e-mail only once the transaction commits. Operations a task can repeat (verifying
a request from the same register data) change nothing the second time.

Built so far: filing a request, its verification or failure, and cancelling a link that NIA knows
nothing of yet. Completion (registering authenticators with NIA, `active`) comes next; until it
exists no link gets past `verified`.
"""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.audit import record
from accounts.models import AuditEvent, Profile, User
from accounts.notifications import tell
from accounts.services.profile import unlock_profile
from twofactor.eligibility import eligible_authenticators

from . import completion
from .clients import nia
from .clients.nia import Person
from .exceptions import (
    IllegalTransition,
    NiaUnavailable,
    SystemAnswerInvalid,
    SystemRefused,
    SystemUnavailable,
    VerificationRefused,
)
from .internal import codes, eligibility
from .models import OPEN_STATES, Link, LinkState, Registration, RegistrationState, Route

#: States from which a link ends without telling NIA: nothing is registered there yet.
NOT_AT_NIA = (LinkState.REQUESTED, LinkState.VERIFIED)


def open_link(user: User) -> Link | None:
    """The user's link being built or in force, if any."""
    return Link.objects.filter(user=user, state__in=OPEN_STATES).first()


def latest_link(user: User) -> Link | None:
    """The open link, else the one that ended last (failed or cancelled), else None."""
    return open_link(user) or Link.objects.filter(user=user).order_by("-created_at").first()


def request_problems(user: User, level: str, route: str) -> list[str]:
    """What stands between the user and a request for `level` by `route` (codes of
    `eligibility.MESSAGES`); empty when a request may be filed."""
    profile = Profile.objects.get(pk=user.pk)
    return [
        *eligibility.route_problems(level, route),
        *eligibility.profile_problems(profile),
        *eligibility.authenticator_problems(eligible_authenticators(user, level), level),
    ]


def start_request(user: User, *, level: str, route: str, actor: User, request=None) -> Link:
    """File a request for access at `level`, to be verified by `route`.

    The caller (a flow) has checked a fresh sign-in with password and second factor. Raises
    VerificationRefused with what is missing, IllegalTransition if a link is open already.
    """
    with transaction.atomic():
        # One open link per account: two clicks at once queue here, the second sees the first.
        User.objects.select_for_update().filter(pk=user.pk).exists()
        problems = request_problems(user, level, route)
        if problems:
            raise VerificationRefused(problems)
        if open_link(user) is not None:
            raise IllegalTransition("the account has an open link")
        link = Link.objects.create(
            user=user,
            state=LinkState.REQUESTED,
            level=level,
            route=route,
            request_code=_unused_code() if route != Route.EOBCANKA else "",
        )
        record(
            AuditEvent.Kind.NIA_LINK_REQUESTED,
            user=user,
            actor=actor,
            request=request,
            link=link.pk,
            level=level,
            route=route,
        )
    return link


def verify(link_id: int, person: Person, *, document: str = "", evidence: dict) -> Link:
    """The register vouched for the person who filed the request: `requested` → `verified`, with
    NIA's data of the person; or `failed` when the register's data forbid the link (deceased, no
    residence). `evidence` says what proved it (a provision's id, a message's, an assertion's),
    for the audit.

    Repeating it for a link verified as the same person changes nothing (a task may read a feed
    page twice). IllegalTransition from any other state.
    """
    with transaction.atomic():
        link = Link.objects.select_for_update().select_related("user").get(pk=link_id)
        if link.state == LinkState.VERIFIED and link.bsi == person.bsi:
            return link
        if link.state != LinkState.REQUESTED:
            raise IllegalTransition(f"a {link.state} link cannot be verified")
        problems = eligibility.person_problems(person)
        if problems:
            return _end(link, LinkState.FAILED, problems[0], actor=None, evidence=evidence)
        link.state, link.verified_at = LinkState.VERIFIED, timezone.now()
        link.bsi, link.register_data = person.bsi, register_data(person)
        link.identity_document = document
        link.save(
            update_fields=["state", "verified_at", "bsi", "register_data", "identity_document"]
        )
        record(
            AuditEvent.Kind.NIA_LINK_VERIFIED,
            user=link.user,
            actor=None,
            link=link.pk,
            **evidence,
        )
        user = link.user
        transaction.on_commit(lambda: tell(user, "nia_link_verified", link=link))
    return link


def fail(link_id: int, reason: str, *, evidence: dict) -> Link:
    """The verification showed the request cannot succeed (`reason`, a code of
    `eligibility.MESSAGES` or of the route): `requested`/`verified` → `failed`, with an e-mail
    that says why. A failed link stays failed when told again."""
    with transaction.atomic():
        link = Link.objects.select_for_update().select_related("user").get(pk=link_id)
        if link.state == LinkState.FAILED:
            return link
        if link.state not in NOT_AT_NIA:
            raise IllegalTransition(f"a {link.state} link cannot fail")
        return _end(link, LinkState.FAILED, reason, actor=None, evidence=evidence)


def cancel_request(user: User, *, actor: User) -> bool:
    """The citizen cancels their request (filed or verified: NIA knows nothing of it yet). An
    active link is not ended here: that is Remove access, with its own re-authentication.
    True if a request was cancelled; IllegalTransition for a link NIA knows of."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).exists()
        link = Link.objects.select_for_update().filter(user=user, state__in=OPEN_STATES).first()
        if link is None:
            return False
        if link.state not in NOT_AT_NIA:
            raise IllegalTransition(f"a {link.state} link is not a request")
        _end(link, LinkState.CANCELLED, "user", actor=actor, evidence={})
    return True


#: The help page's words when NIA cannot be told and nothing was changed.
NOT_COMPLETED = completion.NOT_COMPLETED
CANNOT_DISABLE = _("Cannot disable authenticator.")


def ensure_nia_answers(user: User, message, *, security_key=None, klic_device=None) -> None:
    """Before the citizen's own path ends something at NIA (Remove access, removing a
    registered authenticator, the two-factor reset): NiaUnavailable(`message`) when NIA cannot
    be reached, so that the path refuses and changes nothing. With `security_key`/`klic_device`,
    only when that authenticator is registered with NIA.

    Called outside any transaction (by the flows, before their services): it calls NIA, and the
    embedded simulator answers from the same database. The proof is an idempotent
    TR_EVIDENCE_VIP_ZMENA of a registration to the state NIA holds already (a no-op there).
    Should NIA go down right after it, the path's change is still one the task converges."""
    link = Link.objects.filter(
        user=user, state__in=(LinkState.ACTIVE, LinkState.ACTIVATING)
    ).first()
    if link is None:
        return
    held = link.registrations.filter(
        at_nia__in=(RegistrationState.ACTIVE, RegistrationState.INACTIVE)
    )
    if security_key is not None or klic_device is not None:
        chosen = {"security_key": security_key} if security_key else {"klic_device": klic_device}
        if not held.filter(wanted=RegistrationState.ACTIVE, **chosen).exists():
            return  # not registered with NIA: nothing to end there
    registration = held.first()
    if registration is None:
        return  # nothing is held at NIA: nothing to end there
    state = (
        nia.State.ACTIVE if registration.at_nia == RegistrationState.ACTIVE else nia.State.INACTIVE
    )
    try:
        nia.change_authenticator(
            link.bsi, registration.identifier, completion.NIA_LEVELS[registration.level], state
        )
    except SystemRefused:
        return  # NIA answered (it refused a no-op, e.g. the registration ended there)
    except (SystemUnavailable, SystemAnswerInvalid) as problem:
        raise NiaUnavailable(message) from problem


def end_registration(
    user: User, *, security_key=None, klic_device=None, actor: User | None
) -> bool:
    """An authenticator of `user` is being removed (in the caller's transaction): its
    registration with NIA ends, and with the last one registered, the link ends too.

    The citizen's own removal asks `ensure_nia_answers` first (outside the transaction). NIA is
    told once the caller's transaction commits, and `completion.reconcile` repeats it until NIA
    confirms. Returns True when the link was cancelled with it (the page and the e-mail say so).
    """
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).exists()
        link = Link.objects.select_for_update().filter(user=user, state__in=OPEN_STATES).first()
        if link is None or link.state not in (LinkState.ACTIVE, LinkState.ACTIVATING):
            return False
        registrations = link.registrations.filter(wanted=RegistrationState.ACTIVE)
        registration = registrations.filter(
            **({"security_key": security_key} if security_key else {"klic_device": klic_device})
        ).first()
        if registration is None:
            return False
        if not registrations.exclude(pk=registration.pk).exists():
            return cancel_link(user, reason="last_authenticator_removed", actor=actor)
        Registration.objects.filter(pk=registration.pk).update(
            wanted=RegistrationState.ENDED, updated_at=timezone.now()
        )
        record(
            AuditEvent.Kind.NIA_LINK_CANCELLED,
            user=user,
            actor=actor,
            link=link.pk,
            reason="authenticator_removed",
            registration=registration.identifier,
        )
        transaction.on_commit(lambda: completion.end_registrations_quietly(link.pk))
    return False


def last_registered(security_key=None, klic_device=None) -> bool:
    """Whether removing this authenticator would end its owner's link (it is the last one
    registered with NIA): the confirmation page says so before the citizen confirms."""
    found = Registration.objects.filter(
        wanted=RegistrationState.ACTIVE,
        link__state=LinkState.ACTIVE,
        **({"security_key": security_key} if security_key else {"klic_device": klic_device}),
    ).first()
    if found is None:
        return False
    others = Registration.objects.filter(link_id=found.link_id, wanted=RegistrationState.ACTIVE)
    return not others.exclude(pk=found.pk).exists()


def cancel_link(user: User, *, reason: str, actor: User | None = None) -> bool:
    """Cancel the user's link to NIA, in whatever state it is.

    `reason` names why, for the audit record: "user", "two_factor_reset", "key_removed",
    "helpdesk"… `actor` is who caused it; None is the system. Every path that ends a link comes
    here. The citizen's own paths (Remove access, removing the last key, the two-factor reset)
    ask `ensure_nia_answers` first and refuse while NIA is down; the helpdesk's and the
    register's (a death) end the link here at once, whatever NIA.

    Runs in the caller's transaction, and is idempotent (no open link, or one ending already:
    nothing to do). Returns True when a link was cancelled, so that the caller can tell the user.
    A request or a verified link is not known to NIA and ends here alone. A link NIA knows of
    (active, or being completed) ends here at once — the profile unlocks, the data stay — and
    becomes `ending`: once this transaction commits its registrations are ended at NIA
    (`Ukonceny`), and `completion.reconcile` repeats that until NIA confirms, when the link is
    `cancelled`.
    """
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).exists()
        link = Link.objects.select_for_update().filter(user=user, state__in=OPEN_STATES).first()
        if link is None or link.state == LinkState.ENDING:
            return False
        if link.state in NOT_AT_NIA:
            _end(link, LinkState.CANCELLED, reason, actor=actor, evidence={})
            return True
        link.registrations.update(wanted=RegistrationState.ENDED, updated_at=timezone.now())
        link.state, link.ended_at, link.end_reason = LinkState.ENDING, timezone.now(), reason
        link.save(update_fields=["state", "ended_at", "end_reason"])
        unlock_profile(user, actor=actor, reason="nia_link_ended")
        record(
            AuditEvent.Kind.NIA_LINK_CANCELLED, user=user, actor=actor, link=link.pk, reason=reason
        )
        transaction.on_commit(lambda: tell(user, "nia_link_cancelled", link=link, reason=""))
        transaction.on_commit(lambda: completion.end_quietly(link.pk))
    return True


def register_data(person: Person) -> dict:
    """NIA's data of the person as the link keeps them (JSON)."""

    def plain(value):
        if isinstance(value, date):
            return value.isoformat()
        if hasattr(value, "__dataclass_fields__"):
            return {name: plain(getattr(value, name)) for name in value.__dataclass_fields__}
        return value

    return {name: plain(getattr(person, name)) for name in person.__dataclass_fields__}


def _end(link: Link, state: str, reason: str, *, actor: User | None, evidence: dict) -> Link:
    link.state, link.ended_at, link.end_reason = state, timezone.now(), reason
    link.save(update_fields=["state", "ended_at", "end_reason"])
    kind = (
        AuditEvent.Kind.NIA_LINK_FAILED
        if state == LinkState.FAILED
        else AuditEvent.Kind.NIA_LINK_CANCELLED
    )
    record(kind, user=link.user, actor=actor, link=link.pk, reason=reason, **evidence)
    user, template = link.user, f"nia_link_{state}"
    message = eligibility.MESSAGES.get(reason, "")
    transaction.on_commit(lambda: tell(user, template, link=link, reason=message))
    return link


def _unused_code() -> str:
    while True:  # 55 random bits: a repeat is practically never drawn, but must not fail
        code = codes.new_code()
        if not Link.objects.filter(request_code=code).exists():
            return code
