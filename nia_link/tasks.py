"""Celery tasks of the NIA link: thin, each returns what it did."""

from celery import shared_task

from . import completion, expiry, matching, sync


@shared_task(name="nia_link.match_provisions")
def match_provisions() -> dict:
    """Every half minute: Czech POINT provisions in, their requests verified."""
    return matching.match_provisions().as_dict()


@shared_task(name="nia_link.reconcile")
def reconcile() -> dict:
    """Every minute: completions that stopped half-way brought to agree with NIA."""
    return completion.reconcile()


@shared_task(name="nia_link.match_messages")
def match_messages() -> dict:
    """Every half minute: data-box messages in, their requests verified or failed, answered."""
    return matching.match_messages().as_dict()


@shared_task(name="nia_link.sync_with_register")
def sync_with_register() -> dict:
    """Every half minute: NIA's events about MojeID's people applied (register data, deaths,
    authenticators NIA suspended or ended)."""
    return sync.sync_with_register().as_dict()


@shared_task(name="nia_link.expire_and_remind")
def expire_and_remind() -> dict:
    """Hourly: requests waiting 7 days reminded, 30 days expired."""
    return expiry.expire_and_remind()
