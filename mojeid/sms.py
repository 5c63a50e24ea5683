"""SMS backends. The portal never talks to a real SMS gateway in development or tests."""

import json
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

# Messages sent with LocmemSmsBackend, newest last (like django.core.mail.outbox).
outbox: list[dict] = []


class FileSmsBackend:
    """Writes each SMS as one JSON file under SMS_FILE_DIR; the /sim/outbox/ page lists them."""

    def send(self, number: str, text: str) -> None:
        folder = Path(settings.SMS_FILE_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        now = timezone.now()
        record = {
            "to": number,
            "from": settings.SMS_SENDER,
            "text": text,
            "sent_at": now.isoformat(),
        }
        name = f"{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.json"
        (folder / name).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")


class LocmemSmsBackend:
    """Keeps messages in `mojeid.sms.outbox`, for tests."""

    def send(self, number: str, text: str) -> None:
        outbox.append({"to": number, "text": text})
