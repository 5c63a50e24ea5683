"""The MojeID portal project: settings, URLs, the Celery app and the message outbox."""

from .celery import app as celery_app

__all__ = ["celery_app"]
