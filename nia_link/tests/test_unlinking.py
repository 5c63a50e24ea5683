"""Ending the NIA link by the citizen's own paths — Remove access, removing a registered key or
MojeID Klíč, the two-factor reset — and by the helpdesk's, with NIA up and with NIA down, over
real HTTP against the simulated NIA on a live server. The citizen's paths refuse and change
nothing while NIA is down; the helpdesk's ends locally at once and converges once NIA is back."""

# ruff: noqa: F811 - the fixtures of test_completion, imported by name

import pytest
import time_machine
from django.utils import timezone

from accounts.models import AuditEvent, Profile
from govsim.nia.models import AuthenticatorRegistration
from nia_link import completion, services
from nia_link.exceptions import NiaUnavailable
from nia_link.models import Link, LinkState, RegistrationState
from twofactor.klic import services as klic
from twofactor.models import KlicDevice, SecurityKey

from .test_completion import COMPLETE, NOT_COMPLETED, browser, hub, verified  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

REMOVE = "/settings/public-administration/remove/"


@pytest.fixture
def active(browser, verified):
    """Jana's active link: her MojeID Klíč and one L1 key registered with NIA."""
    browser.post(COMPLETE)
    link = Link.objects.get(pk=verified.pk)
    assert link.state == LinkState.ACTIVE and at_nia() == {"Aktivni": 2}
    return link


def at_nia() -> dict[str, int]:
    states = list(AuthenticatorRegistration.objects.values_list("state", flat=True))
    return {state: states.count(state) for state in set(states)}


def test_remove_access_ends_every_registration_and_unlocks_the_profile(
    browser,
    active,
    deliver,
):
    settings_page = browser.get("/settings/").content.decode()
    page = browser.get(REMOVE).content.decode()
    removed = browser.post(REMOVE, follow=True)
    emails, _ = deliver()

    link = Link.objects.get(pk=active.pk)
    profile = Profile.objects.get(pk=active.user_id)
    assert REMOVE in settings_page and "Remove access" in page
    assert "Your access to public administration services is removed." in removed.content.decode()
    assert (link.state, link.end_reason) == (LinkState.CANCELLED, "user")
    assert at_nia() == {"Ukonceny": 2}
    assert not profile.is_locked and profile.last_name == "Nováková", "the data stay"
    assert KlicDevice.objects.filter(user=active.user).exists(), "the account stays secured"
    assert "your access to public administration services has been removed" in emails[-1].body


def test_remove_access_while_nia_is_down_refuses_and_changes_nothing(
    browser,
    active,
    settings,
):
    settings.GOVSIM_OUTAGES = ["nia"]

    refused = browser.post(REMOVE)

    assert refused.status_code == 503 and NOT_COMPLETED in refused.content.decode()
    assert Link.objects.get(pk=active.pk).state == LinkState.ACTIVE
    assert Profile.objects.get(pk=active.user_id).is_locked
    settings.GOVSIM_OUTAGES = []
    assert at_nia() == {"Aktivni": 2}


def test_remove_access_needs_a_fresh_sign_in_with_the_second_factor(browser, active):
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=20), tick=False):
        asked = browser.post(REMOVE)

    assert asked["Location"].startswith("/account/reauthenticate/")
    assert Link.objects.get(pk=active.pk).state == LinkState.ACTIVE


def test_removing_a_registered_key_ends_it_at_nia_and_the_link_stays(browser, active):
    key = SecurityKey.objects.get(user=active.user)
    page = browser.get(f"/settings/keys/{key.pk}/remove/").content.decode()

    browser.post(f"/settings/keys/{key.pk}/remove/")

    assert "It is the last authenticator" not in page
    assert not SecurityKey.objects.filter(pk=key.pk).exists()
    assert Link.objects.get(pk=active.pk).state == LinkState.ACTIVE
    assert at_nia() == {"Aktivni": 1, "Ukonceny": 1}
    ended = active.registrations.get(wanted=RegistrationState.ENDED)
    assert ended.at_nia == RegistrationState.ENDED


def test_removing_a_key_while_nia_is_down_refuses_with_the_help_page_s_words(
    browser,
    active,
    settings,
):
    key = SecurityKey.objects.get(user=active.user)
    settings.GOVSIM_OUTAGES = ["nia"]

    refused = browser.post(f"/settings/keys/{key.pk}/remove/")

    assert refused.status_code == 503
    assert "Cannot disable authenticator." in refused.content.decode()
    assert SecurityKey.objects.filter(pk=key.pk).exists()
    assert not active.registrations.filter(wanted=RegistrationState.ENDED).exists()


def test_removing_the_last_registered_authenticator_says_so_and_ends_the_link(
    browser, active, sign_in_verified
):
    klic.remove_device(KlicDevice.objects.get(user=active.user), actor=active.user)
    sign_in_verified(browser, active.user)  # with a new Klíč, not registered with NIA
    key = SecurityKey.objects.get(user=active.user)

    page = browser.get(f"/settings/keys/{key.pk}/remove/").content.decode()
    browser.post(f"/settings/keys/{key.pk}/remove/")

    assert "It is the last authenticator registered" in page
    link = Link.objects.get(pk=active.pk)
    assert (link.state, link.end_reason) == (LinkState.CANCELLED, "last_authenticator_removed")
    assert at_nia() == {"Ukonceny": 2}
    assert not Profile.objects.get(pk=active.user_id).is_locked


def test_the_two_factor_reset_s_cancel_refuses_while_nia_is_down(active, settings):
    settings.GOVSIM_OUTAGES = ["nia"]

    with pytest.raises(NiaUnavailable):
        services.ensure_nia_answers(active.user, services.NOT_COMPLETED)

    assert Link.objects.get(pk=active.pk).state == LinkState.ACTIVE


def test_the_helpdesk_ends_a_link_at_once_while_nia_is_down_and_it_converges(
    active, settings, make_user
):
    operator = make_user("operator", email="operator@example.cz")
    settings.GOVSIM_OUTAGES = ["nia"]

    assert services.cancel_link(active.user, reason="helpdesk", actor=operator) is True
    ending = Link.objects.get(pk=active.pk)
    waiting = completion.reconcile()
    settings.GOVSIM_OUTAGES = []
    done = completion.reconcile()

    assert ending.state == LinkState.ENDING and not Profile.objects.get(pk=active.user_id).is_locked
    assert waiting["waiting"] == 1 and done["ended"] == 1
    assert Link.objects.get(pk=active.pk).state == LinkState.CANCELLED
    assert at_nia() == {"Ukonceny": 2}
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.NIA_LINK_CANCELLED).last()
    assert AuditEvent.objects.filter(
        kind=AuditEvent.Kind.NIA_LINK_CANCELLED, actor=operator, details__reason="helpdesk"
    ).exists(), event


def test_a_key_removed_while_nia_fails_after_answering_is_ended_by_the_task(
    browser,
    active,
    settings,
    monkeypatch,
):
    key = SecurityKey.objects.get(user=active.user)
    # NIA answers the check, then is gone before it hears of the removal.
    monkeypatch.setattr(completion, "end_registrations_quietly", lambda link_id: None)
    browser.post(f"/settings/keys/{key.pk}/remove/")
    assert at_nia() == {"Aktivni": 2}, "NIA still holds it"

    report = completion.reconcile()

    assert report["waiting"] == 0
    assert at_nia() == {"Aktivni": 1, "Ukonceny": 1}


def test_getting_access_again_after_removing_it_starts_from_a_new_request(
    browser,
    active,
    deliver,
):
    browser.post(REMOVE)

    again = browser.get("/settings/public-administration/")
    filed = browser.post("/settings/public-administration/substantial/", {"route": "czech_point"})

    links = Link.objects.filter(user=active.user).order_by("pk")
    assert again.status_code == 200 and filed.status_code == 302
    assert [link.state for link in links] == [LinkState.CANCELLED, LinkState.REQUESTED]
    assert links[1].request_code != active.request_code and links[1].bsi == ""


def test_a_verified_paper_form_resets_the_login_at_once_even_while_nia_is_down(
    active, settings, make_user, deliver
):
    from django.test import RequestFactory

    from twofactor.reset import services as reset

    operator = make_user("operator", email="operator@example.cz")
    settings.GOVSIM_OUTAGES = ["nia"]

    ended = reset.reset_login(active.user, actor=operator, request=RequestFactory().post("/admin/"))
    emails, _ = deliver()
    link = Link.objects.get(pk=active.pk)
    settings.GOVSIM_OUTAGES = []
    completion.reconcile()

    assert ended is True and link.state == LinkState.ENDING
    assert not SecurityKey.objects.filter(user=active.user).exists()
    assert not KlicDevice.objects.filter(user=active.user).exists()
    assert any("/password/reset/" in email.body for email in emails), "a reset link is mailed"
    assert AuditEvent.objects.filter(
        kind=AuditEvent.Kind.TWO_FACTOR_RESET, actor=operator, details__via="verified_form"
    ).exists()
    assert Link.objects.get(pk=active.pk).state == LinkState.CANCELLED
    assert at_nia() == {"Ukonceny": 2}, "NIA agrees once it is back"


def test_remove_access_and_a_key_removal_at_once_end_in_one_consistent_state(
    active, sign_in_verified
):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections
    from django.test import Client

    key = SecurityKey.objects.get(user=active.user)
    first, second = (sign_in_verified(Client(HTTP_ACCEPT_LANGUAGE="en"), active.user) for _ in "12")

    def post(client, path):
        try:
            return client.post(path).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(2) as pool:
        statuses = list(
            pool.map(post, (first, second), (REMOVE, f"/settings/keys/{key.pk}/remove/"))
        )
    completion.reconcile()

    assert all(status < 500 for status in statuses), statuses
    link = Link.objects.get(pk=active.pk)
    assert link.state == LinkState.CANCELLED
    assert at_nia() == {"Ukonceny": 2}, "nothing stays active at NIA"
    assert not Profile.objects.get(pk=active.user_id).is_locked


@pytest.mark.parametrize("nia_up", [True, False], ids=["nia-up", "nia-down"])
def test_the_two_factor_reset_page_with_an_active_link(active, settings, deliver, nia_up):
    from django.test import Client

    from twofactor.reset.tests.test_reset import CONFIRM, answers

    if not nia_up:
        settings.GOVSIM_OUTAGES = ["nia"]
    client = Client(HTTP_ACCEPT_LANGUAGE="en")

    response = client.post(CONFIRM, answers(client, active.user, deliver))
    settings.GOVSIM_OUTAGES = []

    link = Link.objects.get(pk=active.pk)
    if nia_up:
        assert response.status_code == 302
        assert (link.state, link.end_reason) == (LinkState.CANCELLED, "two_factor_reset")
        assert at_nia() == {"Ukonceny": 2}
        assert not SecurityKey.objects.filter(user=active.user).exists()
    else:
        assert response.status_code == 503 and NOT_COMPLETED in response.content.decode()
        assert link.state == LinkState.ACTIVE and at_nia() == {"Aktivni": 2}
        assert SecurityKey.objects.filter(user=active.user).exists(), "every factor is kept"


def test_removing_mojeid_klic_as_the_last_registered_asks_first_and_ends_the_link(browser, active):
    key = SecurityKey.objects.get(user=active.user)
    browser.post(f"/settings/keys/{key.pk}/remove/")

    section = browser.get("/settings/").content.decode()
    page = browser.get("/settings/klic/remove/").content.decode()
    browser.post("/settings/klic/remove/")

    assert 'href="/settings/klic/remove/"' in section, "a link to the question, not a button"
    assert "It is the last authenticator registered" in page
    link = Link.objects.get(pk=active.pk)
    assert (link.state, link.end_reason) == (LinkState.CANCELLED, "last_authenticator_removed")
    assert at_nia() == {"Ukonceny": 2}
