"""Keeping linked accounts in step with the base register: NIA's feed of events about MojeID's
people (`TR_NOTIFIKACE_IDP`), read by a periodic task.

`ROBREF` (the register changed a person's data): the new data go into the profile through the one
service that may write locked fields (`accounts.services.profile.apply_register_data`), and the
citizen gets an e-mail listing what changed. A death recorded in the register, or the person
removed from it (their pseudonym invalidated), ends the link at once — NIA is told by the task
that converges ending links — and a death marks the account (no more e-mail to the address; the
audit row is for the helpdesk). `EVPROST` (NIA suspended, ended or reactivated an authenticator on
its side): the registration records it, and the key list shows it.

The cursor (NIA's last notification id) is saved only after its page is processed; applying an
event twice changes nothing the second time. An event about a person the portal does not link
(any more) is skipped and counted.
"""

from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import Profile
from accounts.notifications import tell
from accounts.services.profile import apply_register_data

from . import feeds
from .clients import nia
from .completion import profile_data
from .models import Link, LinkState, Registration, RegistrationState
from .services import cancel_link, register_data

NOTIFICATIONS_FEED = "nia.notifications"
#: Links whose person the register keeps the portal informed of.
FOLLOWED_STATES = (LinkState.VERIFIED, LinkState.ACTIVATING, LinkState.ACTIVE)
#: NIA's authenticator states as a registration records them.
NIA_STATES = {
    nia.State.ACTIVE: RegistrationState.ACTIVE,
    nia.State.INACTIVE: RegistrationState.INACTIVE,
    nia.State.ENDED: RegistrationState.ENDED,
}


@dataclass
class SyncReport:
    """What one run did with the events it read."""

    read: int = 0
    applied: int = 0  # register data that changed a profile (or a verified link's data)
    unchanged: int = 0  # events that changed nothing (read before, or nothing the portal keeps)
    ended: int = 0  # links ended: a death, or the person removed from the register
    authenticators: int = 0  # registrations whose state NIA changed
    skipped: int = 0  # events about people the portal does not link
    cursor: int = 0
    busy: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def sync_with_register() -> SyncReport:
    """Read NIA's events since the saved cursor and apply them (one run at a time:
    `feeds.read`)."""

    def next_page(after: int) -> tuple[list, int, bool]:
        page = nia.notifications(after=after)
        return page.notifications, page.last_id, page.has_more

    return feeds.read(NOTIFICATIONS_FEED, SyncReport(), next_page, _apply_page)


def _apply_page(notifications: list[nia.Notification]):
    # One query a page for whom the portal links: most events are about other people.
    followed = set(
        Link.objects.filter(
            bsi__in={notification.bsi for notification in notifications},
            state__in=FOLLOWED_STATES,
        ).values_list("bsi", flat=True)
    )
    for notification in notifications:
        yield _apply(notification) if notification.bsi in followed else "skipped"


def _apply(notification: nia.Notification) -> str:
    link = (
        Link.objects.filter(bsi=notification.bsi, state__in=FOLLOWED_STATES)
        .select_related("user")
        .first()
    )
    if link is None:
        return "skipped"
    if notification.source == nia.Source.AUTHENTICATOR:
        return _authenticator_changed(link, notification.data)
    if notification.source != nia.Source.REGISTER:
        return "skipped"  # a kind of event this portal does not know yet
    if notification.pseudonym_invalidated:
        cancel_link(link.user, reason="removed_from_register", actor=None)
        return "ended"
    person = nia.person_data(notification.data)
    if person["death_date"] is not None:
        return _died(link, person["death_date"])
    return _register_changed(link, person)


def _register_changed(link: Link, person: dict) -> str:
    data = register_data(nia.Person(bsi=link.bsi, **person))
    with transaction.atomic():
        locked = Link.objects.select_for_update().get(pk=link.pk)
        if locked.state not in FOLLOWED_STATES or locked.register_data == data:
            return "unchanged"
        locked.register_data = data
        locked.save(update_fields=["register_data"])
        if locked.state != LinkState.ACTIVE:
            return "applied"  # Complete applies the current data to the profile
        changed = apply_register_data(
            locked.user, profile_data(data), actor=None, source="nia_robref"
        )
        if changed:
            # Lazy: rendered in the citizen's language with the rest of the e-mail.
            labels = [Profile._meta.get_field(name).verbose_name for name in changed]
            user = locked.user
            transaction.on_commit(lambda: tell(user, "nia_link_register_changed", fields=labels))
    return "applied"


def _died(link: Link, death_date) -> str:
    with transaction.atomic():
        # First: the cancellation's e-mail, sent after commit, then finds the account marked.
        Profile.objects.filter(pk=link.user_id, deceased_on__isnull=True).update(
            deceased_on=death_date
        )
        cancel_link(link.user, reason="deceased", actor=None)  # its audit row: for the helpdesk
    return "ended"


def _authenticator_changed(link: Link, data: dict) -> str:
    identifier = data.get("IdentifikaceProstredku")
    state = NIA_STATES.get(data.get("Stav"))
    if not isinstance(identifier, str) or state is None:
        return "skipped"
    with transaction.atomic():
        registration = (
            Registration.objects.select_for_update()
            .filter(link=link, identifier=identifier)
            .first()
        )
        if registration is None or registration.at_nia == state:
            return "unchanged"
        wanted = (
            RegistrationState.ENDED if state == RegistrationState.ENDED else registration.wanted
        )
        Registration.objects.filter(pk=registration.pk).update(
            at_nia=state, wanted=wanted, updated_at=timezone.now()
        )
    return "authenticators"
