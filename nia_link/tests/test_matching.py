"""Czech POINT requests verified from the register's provisions feed, over real HTTP against the
simulated register and NIA on a live server: the task's report, the link, the e-mail, and what
happens when a page is read twice, a code is unknown, or NIA is down."""

import pytest

from accounts.models import AuditEvent
from govsim.models import StaffMember
from govsim.nia import services as nia_services
from govsim.nia.models import ServiceProvider
from govsim.rob import services as rob_services
from govsim.rob.models import Recipient
from govsim.rob.tests.factories import make_citizen, make_clerk
from nia_link import feeds, matching, services
from nia_link.exceptions import SystemUnavailable
from nia_link.internal import codes
from nia_link.models import FeedCursor, Link, LinkState, Unmatched

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def requested(make_applicant):
    """Jana's request to be verified at Czech POINT."""
    user = make_applicant("jana")
    return services.start_request(user, level="substantial", route="czech_point", actor=user)


def file_at_the_desk(code: str, **citizen_fields):
    citizen = make_citizen(**citizen_fields)
    provision, _ = rob_services.file_provision(
        recipient=Recipient.objects.get(),
        request_code=code,
        citizen=citizen,
        clerk=StaffMember.objects.filter(is_clerk=True).first() or make_clerk(),
        office="Praha 1",
    )
    return citizen, provision


def test_a_filed_request_is_verified_as_the_person_nia_knows(state_systems, requested, deliver):
    citizen, provision = file_at_the_desk(requested.request_code)

    report = matching.match_provisions()
    emails, _ = deliver()

    link = Link.objects.get(pk=requested.pk)
    portal = ServiceProvider.objects.get()
    assert report.as_dict() == {
        "read": 1,
        "verified": 1,
        "failed": 0,
        "unmatched": 0,
        "cursor": provision.pk,
        "busy": False,
    }
    assert link.state == LinkState.VERIFIED
    assert link.bsi == nia_services.bsi(portal, citizen)
    assert link.register_data["address"]["address_point_code"] == citizen.address_point_code
    assert [email.subject for email in emails] == ["Your identity has been verified"]
    assert FeedCursor.objects.get(feed=matching.PROVISIONS_FEED).position == provision.pk


def test_a_page_read_twice_changes_nothing(state_systems, requested):
    file_at_the_desk(requested.request_code)
    matching.match_provisions()
    FeedCursor.objects.update(position=0)  # as after a crash before the cursor was saved

    again = matching.match_provisions()

    assert (again.read, again.verified, again.unmatched) == (1, 1, 0)
    assert Link.objects.get(pk=requested.pk).state == LinkState.VERIFIED
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.NIA_LINK_VERIFIED).count() == 1
    assert matching.match_provisions().read == 0, "the saved cursor reads on"


def test_codes_the_portal_never_issued_or_cancelled_are_kept_for_the_helpdesk(
    state_systems, requested
):
    services.cancel_link(requested.user, reason="user", actor=requested.user)
    _, stray = file_at_the_desk(codes.new_code())
    _, late = file_at_the_desk(requested.request_code, first_names="Petra")

    report = matching.match_provisions()
    matching.match_provisions()
    FeedCursor.objects.update(position=0)
    matching.match_provisions()

    assert (report.read, report.unmatched, report.verified) == (2, 2, 0)
    kept = dict(Unmatched.objects.values_list("external_id", "reason"))
    assert kept == {stray.pk: "unknown_code", late.pk: "request_cancelled"}
    assert Link.objects.get(pk=requested.pk).state == LinkState.CANCELLED


@pytest.mark.parametrize("residence", ["foreigner_permanent", "foreigner_temporary"])
def test_a_foreigner_with_permanent_or_temporary_residence_is_verified(
    state_systems, requested, residence
):
    file_at_the_desk(requested.request_code, residence_type=residence, citizenship="UA")

    report = matching.match_provisions()

    link = Link.objects.get(pk=requested.pk)
    assert (report.verified, link.state) == (1, LinkState.VERIFIED)
    assert link.register_data["residence_type"] == residence


def test_a_person_without_residence_ends_the_request_as_failed(state_systems, requested, deliver):
    file_at_the_desk(requested.request_code, residence_type="none")

    report = matching.match_provisions()
    emails, _ = deliver()

    assert report.failed == 1
    assert Link.objects.get(pk=requested.pk).end_reason == "no_residence"
    assert "no permanent residence" in emails[0].body


def test_while_nia_is_down_nothing_moves_and_the_next_run_catches_up(
    state_systems, requested, settings
):
    file_at_the_desk(requested.request_code)
    settings.GOVSIM_OUTAGES = ["nia"]

    with pytest.raises(SystemUnavailable):
        matching.match_provisions()

    assert Link.objects.get(pk=requested.pk).state == LinkState.REQUESTED
    assert FeedCursor.objects.get().position == 0
    settings.GOVSIM_OUTAGES = []
    assert matching.match_provisions().verified == 1


def test_a_run_that_finds_another_going_reads_nothing(state_systems, requested):
    from django.core.cache import cache

    file_at_the_desk(requested.request_code)
    cache.add(feeds.running_key(matching.PROVISIONS_FEED), True)

    busy = matching.match_provisions()
    cache.delete(feeds.running_key(matching.PROVISIONS_FEED))
    done = matching.match_provisions()

    assert (busy.busy, busy.read) == (True, 0)
    assert (done.busy, done.verified) == (False, 1)
