"""Celery tasks of accounts (their beat entries are in `mojeid/celery.py`)."""

from celery import shared_task

from .services.contacts import delete_old_codes
from .services.registration import delete_unconfirmed_accounts


@shared_task(name="accounts.housekeeping")
def housekeeping() -> dict:
    """Daily: old confirmation codes deleted, accounts never confirmed within 7 days deleted."""
    return {
        "codes_deleted": delete_old_codes(),
        "unconfirmed_accounts_deleted": delete_unconfirmed_accounts(),
    }
