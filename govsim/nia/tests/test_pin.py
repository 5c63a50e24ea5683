"""The eObčanka's PIN attempt limit, also against many attempts at once."""

import threading
import time

import pytest
from django.contrib.auth.hashers import check_password

from govsim.nia import services

from .conftest import PIN, card_of

pytestmark = pytest.mark.django_db

PARALLEL = 30


@pytest.fixture
def card(make_citizen):
    """An eObčanka read with its holder, so the threads below need no database."""
    return services.find_card(card_of(make_citizen()))


@pytest.fixture
def checks(monkeypatch) -> list[str]:
    """The PINs actually checked against the card; each check is slowed down, as Argon2 is."""
    checked: list[str] = []
    lock = threading.Lock()

    def slow_check(pin, encoded):
        with lock:
            checked.append(pin)
        time.sleep(0.05)
        return check_password(pin, encoded)

    monkeypatch.setattr(services, "check_password", slow_check)
    return checked


def attempt_in_parallel(card, pins: list[str]) -> list[str]:
    """Try every PIN at once, each in its own thread: the outcome codes ("ok" for a right PIN)."""
    start = threading.Barrier(len(pins))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(pin: str) -> None:
        start.wait()
        try:
            services.verify_pin(card, pin)
            outcome = "ok"
        except services.CardProblem as problem:
            outcome = problem.code
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(pin,)) for pin in pins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_parallel_wrong_pins_get_no_more_checks_than_the_limit(card, checks):
    outcomes = attempt_in_parallel(card, [f"{n:06d}" for n in range(PARALLEL)])

    assert len(outcomes) == PARALLEL
    assert len(checks) <= services.MAX_PIN_ATTEMPTS
    assert outcomes.count("blocked") >= PARALLEL - services.MAX_PIN_ATTEMPTS + 1
    assert services.is_blocked(card)
    with pytest.raises(services.CardRefused):
        services.verify_pin(card, PIN)


def test_the_right_pin_among_parallel_wrong_ones_is_checked_at_most_within_the_limit(card, checks):
    pins = [f"{n:06d}" for n in range(PARALLEL - 1)] + [PIN]

    outcomes = attempt_in_parallel(card, pins)

    assert len(checks) <= services.MAX_PIN_ATTEMPTS
    assert outcomes.count("ok") == (1 if PIN in checks else 0)


def test_a_right_pin_resets_the_count(card):
    for wrong in ("000000", "000001"):
        with pytest.raises(services.WrongPin):
            services.verify_pin(card, wrong)

    services.verify_pin(card, PIN)

    with pytest.raises(services.WrongPin) as first:
        services.verify_pin(card, "000002")
    assert first.value.attempts_left == services.MAX_PIN_ATTEMPTS - 1
    with pytest.raises(services.WrongPin):
        services.verify_pin(card, "000003")
    with pytest.raises(services.CardRefused):
        services.verify_pin(card, "000004")
    assert services.is_blocked(card)
