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
from twofactor.models import KlicDevice

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
    user = request.getfixturevalue("make_user")("jana")
    Profile.objects.filter(pk=user.pk).update(
        street="Vinohradská 1511/230", city="Praha", postal_code="10000"
    )
    KlicDevice.objects.create(user=user, confirmed=True, public_key=b"k", pin_verifier="v")
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
