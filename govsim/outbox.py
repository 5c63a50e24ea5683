"""The development outbox: e-mails and SMS the portal wrote to files, newest first."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from . import services
from .signin import login_redirect

SHOWN = 50


@dataclass
class Message:
    kind: str
    sent_at: datetime
    to: str
    subject: str
    body: str


def _written_at(path: Path) -> datetime:
    """The UTC time the backends put at the start of each file name."""
    return datetime.strptime(path.name.split("-", 1)[0], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)


def _read_mail(path: Path) -> Message:
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    body = parsed.get_body(preferencelist=("plain",))
    return Message(
        "email",
        _written_at(path),
        str(parsed["To"]),
        str(parsed["Subject"]),
        body.get_content() if body else "",
    )


def _read_sms(path: Path) -> Message:
    record = json.loads(path.read_text(encoding="utf-8"))
    return Message("sms", _written_at(path), record["to"], "", record["text"])


def recent_messages(limit: int = SHOWN) -> list[Message]:
    """The newest messages of both kinds; file names begin with the time they were written."""
    files = []
    for folder, pattern, reader in (
        (Path(settings.MAIL_FILE_DIR), "*.eml", _read_mail),
        (Path(settings.SMS_FILE_DIR), "*.json", _read_sms),
    ):
        if folder.is_dir():
            files += [(path.name, path, reader) for path in folder.glob(pattern)]
    files.sort(reverse=True)
    return [reader(path) for _, path, reader in files[:limit]]


def outbox(request: HttpRequest) -> HttpResponse:
    """Open to anybody in development; elsewhere (the compose stack) to the simulator's operators
    only, signed in on the simulator admin's page, because every confirmation code is readable
    here. The portal's accounts, staff or not, do not open it."""
    if not settings.DEBUG and services.signed_in_operator(request) is None:
        return login_redirect(request, reverse("govsim_admin:login"))
    return render(request, "govsim/outbox.html", {"messages_out": recent_messages()})
