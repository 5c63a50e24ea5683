"""The hook other apps call to end a user's NIA link (filled by the NIA link issue)."""

import inspect

import pytest

from nia_link import services
from nia_link.exceptions import NiaUnavailable

pytestmark = pytest.mark.django_db


def test_cancel_link_is_a_no_op_until_the_nia_link_exists(user):
    assert services.cancel_link(user, reason="two_factor_reset", actor=None) is False
    # Idempotent: a second call is just as harmless.
    assert services.cancel_link(user, reason="two_factor_reset", actor=None) is False


def test_cancel_link_takes_reason_and_actor_by_keyword():
    parameters = inspect.signature(services.cancel_link).parameters

    assert parameters["reason"].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters["actor"].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters["actor"].default is None


def test_nia_unavailable_carries_a_message_for_the_user():
    assert "NIA" in str(NiaUnavailable().message)
    assert NiaUnavailable("custom").message == "custom"
