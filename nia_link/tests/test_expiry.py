"""Requests that wait: a reminder after a week for a Czech POINT request, expiry after 30 days
for any request not verified, each once, with its e-mail."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from nia_link import expiry, services
from nia_link.models import Link, LinkState

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def request_of(make_applicant):
    def make(username: str, route: str = "czech_point") -> Link:
        user = make_applicant(username, email=f"{username}@example.cz")
        return services.start_request(user, level="substantial", route=route, actor=user)

    return make


def later(days: float):
    return time_machine.travel(timezone.now() + timedelta(days=days), tick=False)


def test_a_czech_point_request_waiting_a_week_is_reminded_once(request_of, deliver):
    waiting = request_of("jana")
    by_data_box = request_of("petr", route="data_box")

    with later(6):
        early = expiry.expire_and_remind()
    with later(8):
        first = expiry.expire_and_remind()
        again = expiry.expire_and_remind()
        emails, _ = deliver()

    assert early == {"expired": 0, "reminded": 0}
    assert first == {"expired": 0, "reminded": 1} and again["reminded"] == 0
    [reminder] = [e for e in emails if e.subject == "Your request at Czech POINT is still waiting"]
    assert reminder.to == ["jana@example.cz"] and waiting.request_code in reminder.body
    assert Link.objects.get(pk=by_data_box.pk).reminded_at is None


def test_a_request_not_verified_in_30_days_expires_with_an_e_mail(
    request_of, deliver, client, sign_in_verified
):
    waiting = request_of("jana", route="data_box")

    with later(31):
        report = expiry.expire_and_remind()
        expiry.expire_and_remind()
        emails, _ = deliver()
    sign_in_verified(client, waiting.user)
    section = client.get("/settings/").content.decode()

    link = Link.objects.get(pk=waiting.pk)
    assert report["expired"] == 1
    assert (link.state, link.end_reason) == (LinkState.FAILED, "expired")
    assert "has expired" in emails[-1].body
    assert "has expired" in section and "Get access" in section
