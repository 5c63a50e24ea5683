"""The Celery application shared by the web process, the worker and beat."""

import os
from pathlib import Path

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mojeid.settings")

app = Celery("mojeid")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _prepare(sender: Celery, **kwargs) -> None:
    from django.conf import settings

    # The file-system broker needs its folders before the first message is published.
    options = sender.conf.broker_transport_options
    for folder in {options.get("data_folder_in"), options.get("control_folder")} - {None}:
        Path(folder).mkdir(parents=True, exist_ok=True)
    sender.add_periodic_task(
        settings.OUTBOX_DRAIN_INTERVAL_SECONDS,
        sender.signature("mojeid.drain_outbox"),
        name="drain the message outbox",
    )
    sender.add_periodic_task(
        crontab(hour=3, minute=17), sender.signature("mojeid.housekeeping"), name="housekeeping"
    )
    sender.add_periodic_task(
        crontab(hour=3, minute=27),
        sender.signature("accounts.housekeeping"),
        name="delete old codes and accounts never confirmed",
    )
    sender.add_periodic_task(
        crontab(hour=4, minute=23),
        sender.signature("twofactor.refresh_metadata"),
        name="refresh the FIDO metadata and judge the security keys again",
    )
    sender.add_periodic_task(
        settings.NIA_LINK_POLL_SECONDS,
        sender.signature("nia_link.match_provisions"),
        name="match Czech POINT provisions to requests",
    )
    sender.add_periodic_task(
        settings.NIA_LINK_POLL_SECONDS,
        sender.signature("nia_link.match_messages"),
        name="match data-box messages to requests",
    )
    sender.add_periodic_task(
        settings.NIA_LINK_POLL_SECONDS,
        sender.signature("nia_link.sync_with_register"),
        name="keep linked accounts in step with the base register (NIA's events)",
    )
    sender.add_periodic_task(
        crontab(minute=41),
        sender.signature("nia_link.expire_and_remind"),
        name="remind of requests waiting a week, expire those waiting 30 days",
    )
    sender.add_periodic_task(
        settings.NIA_LINK_RECONCILE_SECONDS,
        sender.signature("nia_link.reconcile"),
        name="bring completions that stopped half-way to agree with NIA",
    )


@worker_ready.connect
def _drain_on_start(sender, **kwargs) -> None:
    """Send what piled up while no worker (or no broker) was there, without waiting for beat."""
    app.send_task("mojeid.drain_outbox")
