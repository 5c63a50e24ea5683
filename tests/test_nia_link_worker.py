"""The Czech POINT route with the real Celery worker and beat: a request filed at the desk is
verified by the periodic task, which calls the simulated register and NIA over real HTTP, and the
citizen's e-mail is written by the same worker. (Worker, broker and folders: test_outbox_worker.)"""

import re

import pytest

from accounts.models import Profile
from govsim.nia import seed as nia_seed
from govsim.rob import seed as rob_seed
from govsim.rob import services as rob_services
from govsim.rob.models import Recipient
from govsim.rob.tests.factories import make_citizen, make_clerk
from nia_link import services
from nia_link.models import Link, LinkState

from .test_outbox_worker import (  # noqa: F401 (fixtures)
    TASK_SUCCEEDED,
    emails_to,
    private_redis,
    start_worker,
    var_dir,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_worker_verifies_a_filed_request_and_mails_the_citizen(request, live_server):
    rob_seed.seed_portal()
    nia_seed.seed(live_server.url)
    user = request.getfixturevalue("make_applicant")("jana")
    link = services.start_request(user, level="substantial", route="czech_point", actor=user)
    rob_services.file_provision(
        recipient=Recipient.objects.get(),
        request_code=link.request_code,
        citizen=make_citizen(),
        clerk=make_clerk(),
        office="Praha 1",
    )
    mail_dir = request.getfixturevalue("var_dir") / "mail"

    worker = request.getfixturevalue("start_worker")(
        beat=True, STATE_SYSTEMS_URL=f"{live_server.url}/sim/", NIA_LINK_POLL_SECONDS="1"
    )

    wait_for(
        lambda: Link.objects.get(pk=link.pk).state == LinkState.VERIFIED, "the request verified"
    )
    [mail] = wait_for(lambda: emails_to(mail_dir, "jana@example.cz"), "the citizen's e-mail")
    assert mail["Subject"] == "Your identity has been verified"
    verified = TASK_SUCCEEDED.format(
        name=r"nia_link\.match_provisions", result=r"\{'read': 1, 'verified': 1,"
    )
    assert re.search(verified, worker.log()), "the beat's task reported the verified request"


def test_the_worker_verifies_a_data_box_message_sent_from_the_portal_s_link(request, live_server):
    """The citizen follows Use data box's link to the data box system (over HTTP, as a browser),
    signs in and sends the prepared message; the beat's task verifies the request, answers into
    the citizen's box and the worker mails them."""
    import html

    import requests

    from govsim.isds import seed as isds_seed
    from govsim.isds.models import BoxAccess, BoxType, DataBox, Message, Person, Role
    from nia_link.views import _concept_url

    isds_seed.seed_portal()
    nia_seed.seed(live_server.url)
    user = request.getfixturevalue("make_applicant")("jana")
    link = services.start_request(user, level="substantial", route="data_box", actor=user)
    citizen = make_citizen()
    person = Person(
        username="jana",
        first_names=citizen.first_names,
        last_name=citizen.last_name,
        birth_date=citizen.birth_date,
        citizen=citizen,
    )
    person.set_password("heslo-datove-schranky")
    person.save()
    box = DataBox.objects.create(box_id="jnov4k1", box_type=BoxType.FO, name="Jana Nováková")
    BoxAccess.objects.create(box=box, person=person, role=Role.OWNER)

    from django.test import override_settings

    with override_settings(STATE_SYSTEMS_PUBLIC_URL=f"{live_server.url}/sim/"):
        concept = _concept_url(link.request_code)
    browser = requests.Session()
    login = browser.get(concept, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)[1]
    # The last "next" on the page is the sign-in form's (the first, the language switch's).
    next_page = html.unescape(re.findall(r'name="next" value="([^"]*)"', login.text)[-1])
    page = browser.post(
        f"{live_server.url}/sim/isds/login/",
        {
            "csrfmiddlewaretoken": token,
            "next": next_page,
            "username": "jana",
            "password": "heslo-datove-schranky",
        },
        headers={"Referer": login.url},
        timeout=10,
    )
    assert re.search(r'name="publish" value="1"[^>]* checked', page.text), "pre-ticked"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    sent = browser.post(
        f"{live_server.url}/sim/isds/concept/",
        {**{k: html.unescape(v) for k, v in fields.items()}, "publish": "1"},
        headers={"Referer": page.url},
        timeout=10,
    )
    assert sent.status_code == 200 and "/sim/isds/message/" in sent.url
    mail_dir = request.getfixturevalue("var_dir") / "mail"

    worker = request.getfixturevalue("start_worker")(
        beat=True, STATE_SYSTEMS_URL=f"{live_server.url}/sim/", NIA_LINK_POLL_SECONDS="1"
    )

    wait_for(
        lambda: Link.objects.get(pk=link.pk).state == LinkState.VERIFIED, "the request verified"
    )
    [mail] = wait_for(lambda: emails_to(mail_dir, "jana@example.cz"), "the citizen's e-mail")
    assert mail["Subject"] == "Your identity has been verified"
    answer = wait_for(
        lambda: Message.objects.filter(recipient_box=box).first(), "the answer in the data box"
    )
    assert answer.sender_box.box_id == isds_seed.PORTAL_BOX_ID
    assert re.search(
        TASK_SUCCEEDED.format(
            name=r"nia_link\.match_messages", result=r"\{'read': 1, 'verified': 1,"
        ),
        worker.log(),
    )


def test_the_worker_brings_a_register_change_into_a_linked_profile(request, live_server):
    """A change recorded in the simulator's admin reaches the linked profile through NIA's feed,
    applied by the beat's task over real HTTP; the citizen is told."""
    from django.test import Client

    from govsim.rob.tests.test_admin import change_form
    from govsim.tests.people import make_operator, signed_in_as
    from nia_link import completion
    from nia_link.clients import nia

    rob_seed.seed_portal()
    nia_seed.seed(live_server.url)
    user = request.getfixturevalue("make_applicant")("jana")
    citizen = make_citizen()
    settings = request.getfixturevalue("settings")
    settings.STATE_SYSTEMS = {
        name: {**entry, "url": f"{live_server.url}/sim/{name}/api/v1/"}
        for name, entry in settings.STATE_SYSTEMS.items()
    }
    link = services.start_request(user, level="substantial", route="czech_point", actor=user)
    person = nia.match_person(citizen.first_names, citizen.last_name, citizen.birth_date)
    services.verify(link.pk, person, document="id_card", evidence={"provision": 0})
    completion.complete(user, actor=user)
    # The move, as an operator records it in the simulator's admin.
    operator = signed_in_as(Client(), make_operator())
    saved = operator.post(
        f"/sim/admin/sim_rob/citizen/{citizen.pk}/change/",
        change_form(citizen, last_name="Dvořáková", street="Dlouhá"),
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    mail_dir = request.getfixturevalue("var_dir") / "mail"

    worker = request.getfixturevalue("start_worker")(
        beat=True, STATE_SYSTEMS_URL=f"{live_server.url}/sim/", NIA_LINK_POLL_SECONDS="1"
    )

    wait_for(
        lambda: Profile.objects.get(pk=user.pk).last_name == "Dvořáková", "the profile updated"
    )
    mails = wait_for(
        lambda: [
            mail
            for mail in emails_to(mail_dir, "jana@example.cz")
            if mail["Subject"] == "Your data from the base register changed"
        ],
        "the citizen's e-mail",
    )
    body = mails[0].get_payload(decode=True).decode()
    assert "last name" in body and "street and number" in body
    assert re.search(
        TASK_SUCCEEDED.format(
            name=r"nia_link\.sync_with_register", result=r"\{'read': 1, 'applied': 1,"
        ),
        worker.log(),
    )


def test_the_helpdesk_s_cancel_during_an_outage_converges_by_the_worker(request, live_server):
    """The helpdesk ends a link while NIA is down: the link is `ending` at once, the beat's
    reconcile keeps trying, and once NIA is back the registrations end there and the link is
    `cancelled` — no hand in between."""
    from govsim.nia.models import AuthenticatorRegistration
    from nia_link import completion
    from nia_link.clients import nia

    settings = request.getfixturevalue("settings")
    rob_seed.seed_portal()
    nia_seed.seed(live_server.url)
    make_user = request.getfixturevalue("make_user")
    user = request.getfixturevalue("make_applicant")("jana")
    operator = make_user("operator", email="operator@example.cz")
    citizen = make_citizen()
    settings.STATE_SYSTEMS = {
        name: {**entry, "url": f"{live_server.url}/sim/{name}/api/v1/"}
        for name, entry in settings.STATE_SYSTEMS.items()
    }
    link = services.start_request(user, level="substantial", route="czech_point", actor=user)
    person = nia.match_person(citizen.first_names, citizen.last_name, citizen.birth_date)
    services.verify(link.pk, person, document="id_card", evidence={"provision": 0})
    completion.complete(user, actor=user)
    settings.GOVSIM_OUTAGES = ["nia"]  # the live server answers 503 for NIA from now on
    services.cancel_link(user, reason="helpdesk", actor=operator)
    assert Link.objects.get(pk=link.pk).state == LinkState.ENDING

    worker = request.getfixturevalue("start_worker")(
        beat=True,
        STATE_SYSTEMS_URL=f"{live_server.url}/sim/",
        NIA_LINK_RECONCILE_SECONDS="1",
    )
    wait_for(lambda: "nia_link.reconcile" in worker.log(), "a reconcile while NIA is down")
    assert Link.objects.get(pk=link.pk).state == LinkState.ENDING
    settings.GOVSIM_OUTAGES = []

    wait_for(
        lambda: Link.objects.get(pk=link.pk).state == LinkState.CANCELLED, "the link cancelled"
    )
    assert set(AuthenticatorRegistration.objects.values_list("state", flat=True)) == {"Ukonceny"}
