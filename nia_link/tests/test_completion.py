"""Complete: the verified link becomes active — NIA registers the authenticators, the profile
takes the register's data and is locked — or, when NIA fails, nothing changes in the end.
Over real HTTP against the simulated NIA on a live server."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
import time_machine
from django.db import connections
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, Profile
from govsim.nia import seed as nia_seed
from govsim.nia.models import AuthenticatorRegistration
from govsim.rob.tests.factories import make_citizen
from nia_link import completion, services
from nia_link.clients import nia
from nia_link.models import Link, LinkState, RegistrationState
from nia_link.tests.test_link_services import make_key
from twofactor.models import CertificationLevel, KlicDevice

pytestmark = pytest.mark.django_db(transaction=True)

COMPLETE = "/settings/public-administration/complete/"
ENABLED = "The option to log in to public administration services using MojeID is now enabled."
NOT_COMPLETED = "It is not possible to complete the access to public administration services."


@pytest.fixture
def hub(live_server, settings):
    nia_seed.seed(live_server.url)
    settings.STATE_SYSTEMS = {
        **settings.STATE_SYSTEMS,
        "nia": {**settings.STATE_SYSTEMS["nia"], "url": f"{live_server.url}/sim/nia/api/v1/"},
    }
    settings.STATE_SYSTEMS_TIMEOUT_SECONDS = 5


@pytest.fixture
def verified(hub, make_user):
    """Jana, with MojeID Klíč and an L1 key, verified by the register (as after Czech POINT)."""
    user = make_user("jana", first_name="Jana", last_name="Novakova")
    Profile.objects.filter(pk=user.pk).update(
        street="Vinohradska 1", city="Praha", postal_code="10000"
    )
    KlicDevice.objects.create(user=user, confirmed=True, public_key=b"k", pin_verifier="v")
    make_key(user, level=CertificationLevel.L1)
    make_citizen()
    link = services.start_request(user, level="substantial", route="czech_point", actor=user)
    person = nia.match_person("Jana", "Nováková", date(1985, 3, 14))
    return services.verify(link.pk, person, document="id_card", evidence={"provision": 1})


@pytest.fixture
def browser(client, sign_in_verified, verified):
    return sign_in_verified(client, verified.user)


def at_nia() -> dict[str, str]:
    return dict(AuthenticatorRegistration.objects.values_list("identifier", "state"))


def test_complete_registers_every_authenticator_and_locks_the_register_s_data(
    browser, verified, deliver
):
    table = browser.get(COMPLETE).content.decode()
    response = browser.post(COMPLETE, follow=True)
    emails, _ = deliver()

    link = Link.objects.get(pk=verified.pk)
    profile = Profile.objects.get(pk=link.user_id)
    assert "Nováková" in table and "differs" in table
    assert ENABLED in response.content.decode()
    assert link.state == LinkState.ACTIVE
    registered = {r.identifier: r.at_nia for r in link.registrations.all()}
    assert len(registered) == 2 and set(registered.values()) == {RegistrationState.ACTIVE}
    assert at_nia() == {identifier: "Aktivni" for identifier in registered}
    assert (profile.last_name, profile.street, profile.is_locked) == (
        "Nováková",
        "Vinohradská 1511/230",
        True,
    )
    assert profile.organisation_locked, "the Organisation field is locked empty"
    # The address as the register structures it: its RÚIAN address point comes along.
    assert profile.address_point_code == link.register_data["address"]["address_point_code"]
    assert profile.address_point_code is not None
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.NIA_LINK_ACTIVATED).count() == 1
    assert "Access to public administration services enabled" in [e.subject for e in emails]


def test_nia_down_at_complete_changes_nothing(browser, verified, settings):
    settings.GOVSIM_OUTAGES = ["nia"]

    response = browser.post(COMPLETE, follow=True)

    assert NOT_COMPLETED in response.content.decode()
    assert Link.objects.get(pk=verified.pk).state == LinkState.VERIFIED
    assert at_nia() == {}
    assert not Profile.objects.get(pk=verified.user_id).is_locked


def test_nia_failing_half_way_is_undone_once_nia_is_back(browser, verified, settings, monkeypatch):
    real = nia.register_authenticator

    def then_nia_goes_down(*args, **kwargs):
        real(*args, **kwargs)
        settings.GOVSIM_OUTAGES = ["nia"]  # after the first registration succeeded

    monkeypatch.setattr(nia, "register_authenticator", then_nia_goes_down)

    response = browser.post(COMPLETE, follow=True)

    assert NOT_COMPLETED in response.content.decode()
    assert Link.objects.get(pk=verified.pk).state == LinkState.ACTIVATING
    assert list(at_nia().values()) == ["Aktivni"], "NIA holds one; the portal wants it ended"
    assert not Profile.objects.get(pk=verified.user_id).is_locked

    settings.GOVSIM_OUTAGES = []
    monkeypatch.setattr(nia, "register_authenticator", real)
    assert completion.reconcile()["undone"] == 0, "not stalled yet"
    with time_machine.travel(timezone.now() + completion.STALLED_AFTER * 2, tick=False):
        report = completion.reconcile()

    assert (report["undone"], report["finished"], report["waiting"]) == (1, 0, 0)
    assert list(at_nia().values()) == ["Ukonceny"]
    assert Link.objects.get(pk=verified.pk).state == LinkState.VERIFIED
    assert browser.post(COMPLETE, follow=True).status_code == 200
    assert Link.objects.get(pk=verified.pk).state == LinkState.ACTIVE, "it can be tried again"


def test_twenty_complete_clicks_at_once_complete_once(browser, verified):
    cookies = browser.cookies

    def click(_):
        try:
            other = Client(HTTP_ACCEPT_LANGUAGE="en")
            other.cookies = cookies
            return other.post(COMPLETE).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(click, range(20)))

    assert set(statuses) == {302}, statuses
    link = Link.objects.get(pk=verified.pk)
    assert link.state == LinkState.ACTIVE
    assert link.registrations.count() == 2
    assert len(at_nia()) == 2
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.NIA_LINK_ACTIVATED).count() == 1


def test_cancelling_an_active_link_ends_its_registrations_at_nia(browser, verified):
    browser.post(COMPLETE)
    user = Link.objects.get(pk=verified.pk).user

    assert services.cancel_link(user, reason="two_factor_reset", actor=None) is True

    link = Link.objects.get(pk=verified.pk)
    assert link.state == LinkState.CANCELLED
    assert set(at_nia().values()) == {"Ukonceny"}
    profile = Profile.objects.get(pk=user.pk)
    assert not profile.is_locked and not profile.organisation_locked
    assert profile.last_name == "Nováková", "the data stay"


def test_an_active_link_cancelled_while_nia_is_down_ends_there_once_it_is_back(
    browser, verified, settings
):
    browser.post(COMPLETE)
    settings.GOVSIM_OUTAGES = ["nia"]

    services.cancel_link(verified.user, reason="helpdesk", actor=None)
    waiting = completion.reconcile()
    settings.GOVSIM_OUTAGES = []
    done = completion.reconcile()

    assert (waiting["waiting"], done["ended"]) == (1, 1)
    assert Link.objects.get(pk=verified.pk).state == LinkState.CANCELLED
    assert set(at_nia().values()) == {"Ukonceny"}
    assert services.cancel_link(verified.user, reason="helpdesk", actor=None) is False


def test_the_key_list_shows_each_key_s_access_to_public_administration(browser, verified):
    ineligible = make_key(verified.user, nia_eligible=False, name="Starý klíč")

    before = browser.get("/settings/").content.decode()
    browser.post(COMPLETE)
    after = browser.get("/settings/").content.decode()
    detail = browser.get(f"/settings/keys/{ineligible.pk}/").content.decode()

    assert before.count(">Get</a>") == 1 and before.count(">Not available</a>") == 1
    assert after.count(">Active</a>") == 1 and ">Get</a>" not in after
    assert "Not available" in detail


def test_cancel_request_does_not_end_an_active_link(browser, verified):
    browser.post(COMPLETE)

    response = browser.post("/settings/public-administration/request/cancel/", follow=True)

    assert "This access can no longer be cancelled here." in response.content.decode()
    assert Link.objects.get(pk=verified.pk).state == LinkState.ACTIVE
    assert set(at_nia().values()) == {"Aktivni"}


def test_a_cancel_while_complete_is_telling_nia_ends_what_lands_after_it(verified):
    """The narrow race: Complete has sent ZAPIS for a key; before NIA's answer, the citizen's
    link is cancelled and its ending asks NIA about that key — NIA knows nothing of it yet
    (NENALEZEN). Then the ZAPIS lands. The portal must not count the key as ended on that
    answer, or NIA would keep an authenticator active for a link the portal has cancelled."""
    link = completion._begin(verified.user, actor=verified.user, request=None)
    in_flight = link.registrations.order_by("pk")  # what the Complete thread read before its calls

    services.cancel_link(
        verified.user, reason="user", actor=verified.user
    )  # its NIA calls: NENALEZEN
    for registration in in_flight:  # the Complete thread's ZAPIS lands now, and it records them
        nia.register_authenticator(
            link.bsi,
            registration.identifier,
            nia.Level.SUBSTANTIAL,
            nia.State.ACTIVE,
            verified_by_document=True,
            document_kind="ID",
        )
        type(registration).objects.filter(pk=registration.pk).update(
            at_nia=RegistrationState.ACTIVE
        )
    assert Link.objects.get(pk=link.pk).state == LinkState.ENDING, "not cancelled on NENALEZEN"
    with time_machine.travel(timezone.now() + completion.STALLED_AFTER * 2, tick=False):
        completion.reconcile()

    assert Link.objects.get(pk=link.pk).state == LinkState.CANCELLED
    assert set(at_nia().values()) == {"Ukonceny"}, "nothing stays active at NIA"


def test_a_link_cancelled_while_being_completed_with_nothing_at_nia_ends_after_the_bound(
    verified,
):
    link = completion._begin(verified.user, actor=verified.user, request=None)

    services.cancel_link(verified.user, reason="user", actor=verified.user)
    soon = completion.reconcile()
    with time_machine.travel(timezone.now() + completion.STALLED_AFTER * 2, tick=False):
        later = completion.reconcile()

    assert soon["waiting"] == 1 and later["ended"] == 1
    assert Link.objects.get(pk=link.pk).state == LinkState.CANCELLED
    assert at_nia() == {}


def test_the_section_says_a_cancelled_link_is_ending_at_nia_until_it_confirms(
    browser, verified, settings
):
    browser.post(COMPLETE)
    settings.GOVSIM_OUTAGES = ["nia"]
    services.cancel_link(verified.user, reason="helpdesk", actor=None)

    page = browser.get("/settings/").content.decode()

    assert "The national identity hub (NIA) is being told" in page
    assert (
        "/settings/public-administration/" not in page.split('id="public-administration"')[1][:2000]
    )
