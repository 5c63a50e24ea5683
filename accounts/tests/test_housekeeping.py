"""The daily housekeeping of accounts: old codes, and registrations never confirmed."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import AuditEvent, ContactCode, Profile, User
from accounts.services.profile import lock_profile
from accounts.tasks import housekeeping
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_housekeeping_deletes_codes_expired_over_a_week_ago(user):
    now = timezone.now()

    def code(expires_at):
        return ContactCode.objects.create(
            user=user,
            channel=ContactCode.Channel.EMAIL,
            target="jana@example.cz",
            code_hash="0" * 64,
            created_at=expires_at - timedelta(hours=24),
            expires_at=expires_at,
        )

    ancient = code(now - timedelta(days=8))
    lately_expired = code(now - timedelta(days=1))
    fresh = code(now + timedelta(hours=23))

    report = housekeeping()

    remaining = set(ContactCode.objects.values_list("pk", flat=True))
    assert remaining == {lately_expired.pk, fresh.pk}
    assert ancient.pk not in remaining and report["codes_deleted"] == 1


def test_an_account_never_confirmed_goes_after_seven_days_and_frees_its_address(client, make_user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        make_user("squatter", email="zdenek@example.cz", confirmed=False)
        make_user("recent", email="recent@example.cz", confirmed=False)
        make_user("confirmed", email="confirmed@example.cz")
        old_staff = make_user("staff", email=None, confirmed=False, is_staff=True)
        locked = make_user("locked", email="locked@example.cz", confirmed=False)
        lock_profile(locked, actor=None, reason="test")
    User.objects.filter(username="recent").update(date_joined=start + timedelta(days=6))

    with time_machine.travel(start + timedelta(days=7, minutes=1), tick=False):
        report = housekeeping()

    remaining = set(User.objects.values_list("username", flat=True))
    assert remaining == {"recent", "confirmed", "staff", "locked"}
    assert report["unconfirmed_accounts_deleted"] == 1
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.UNCONFIRMED_ACCOUNT_DELETED)
    assert event.details["username"] == "squatter" and event.actor is None
    assert not Profile.objects.filter(email="zdenek@example.cz").exists()
    assert old_staff.pk in set(User.objects.values_list("pk", flat=True))
    response = client.post(
        "/register/",
        {
            "username": "zdenek",
            "first_name": "Zdeněk",
            "last_name": "Příliš",
            "email": "zdenek@example.cz",
            "phone": "+420777123456",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
