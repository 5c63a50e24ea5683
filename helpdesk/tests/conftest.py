"""Fixtures of the helpdesk's tests."""

from datetime import date

import pytest

from accounts.models import Profile


@pytest.fixture
def caller(make_user):
    user = make_user("jana", first_name="Jana", last_name="Nováková")
    Profile.objects.filter(pk=user.pk).update(
        birth_date=date(1985, 4, 12),
        street="Vinohradská 1511/230",
        city="Praha",
        postal_code="10000",
        email="jana@example.cz",
        phone="+420601123456",
    )
    return user
