"""Celery tasks of the security keys."""

from celery import shared_task

from . import services


@shared_task(name="twofactor.refresh_metadata")
def refresh_metadata() -> dict:
    """Daily: new FIDO metadata in, every key it concerns judged again, owners told."""
    return services.refresh_metadata().as_dict()
