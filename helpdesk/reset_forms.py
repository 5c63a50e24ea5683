"""The verified paper form (login reset), with four eyes.

A staff member records a received form: the account, the official verification's reference (the
Czech POINT legalisation number, say), its date and the scan — a PDF, PNG or JPEG by its content
(not by its name), at most 10 MB, kept outside anything served. A second staff member with the
supervisor role opens the case, views the scan and approves or rejects it; the recorder can never
decide their own case. Approval runs the login reset (`twofactor.reset.services.reset_login`:
every second factor removed, the NIA link cancelled at once, every session ended, a
password-reset link to the confirmed e-mail). Each step is audited on the account with its actor.
"""

from datetime import date

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.audit import record
from accounts.models import AuditEvent, User
from accounts.reauth import raise_if_reauthentication_required
from twofactor.reset.services import reset_login

from .models import ResetForm, ResetFormState

MAX_SCAN_BYTES = 10 * 1024 * 1024
#: What a scan may be, told by its first bytes.
SCAN_TYPES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}


class FormRefused(Exception):
    """The form cannot be recorded or decided; `reason` is a code the admin explains."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def scan_type(upload: UploadedFile) -> str:
    """The scan's content type by its content; FormRefused("empty" | "too_large" | "type")."""
    if upload.size is None or upload.size == 0:
        raise FormRefused("empty")
    if upload.size > MAX_SCAN_BYTES:
        raise FormRefused("too_large")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for magic, content_type in SCAN_TYPES.items():
        if head.startswith(magic):
            return content_type
    raise FormRefused("type")


def record_form(
    request: HttpRequest, account: User, *, reference: str, verified_on: date, scan: UploadedFile
) -> ResetForm:
    """Record a received, officially verified form; it waits for a supervisor."""
    if not request.user.has_perm("helpdesk.add_resetform"):
        raise FormRefused("not_helpdesk")
    content_type = scan_type(scan)
    with transaction.atomic():
        form = ResetForm.objects.create(
            account=account,
            reference=reference,
            verified_on=verified_on,
            scan=scan,
            scan_type=content_type,
            recorded_by=request.user,
        )
        record(
            AuditEvent.Kind.HELPDESK_RESET_FORM_RECORDED,
            user=account,
            actor=request.user,
            request=request,
            form=form.pk,
            reference=reference,
        )
    return form


def decide(request: HttpRequest, form: ResetForm, *, approve: bool, note: str = "") -> ResetForm:
    """A supervisor approves (the login reset runs) or rejects a waiting form. FormRefused
    ("not_supervisor", "own" for the recorder's own case, "decided" for a form decided
    already)."""
    raise_if_reauthentication_required(request)
    if not request.user.has_perm("helpdesk.decide_resetform"):
        raise FormRefused("not_supervisor")
    with transaction.atomic():
        form = ResetForm.objects.select_for_update().select_related("account").get(pk=form.pk)
        if form.state != ResetFormState.WAITING:
            raise FormRefused("decided")
        if form.recorded_by_id == request.user.pk:
            raise FormRefused("own")
        form.state = ResetFormState.APPROVED if approve else ResetFormState.REJECTED
        form.decided_by, form.decided_at, form.note = request.user, timezone.now(), note[:500]
        form.save(update_fields=["state", "decided_by", "decided_at", "note"])
        record(
            AuditEvent.Kind.HELPDESK_RESET_FORM_APPROVED
            if approve
            else AuditEvent.Kind.HELPDESK_RESET_FORM_REJECTED,
            user=form.account,
            actor=request.user,
            request=request,
            form=form.pk,
            reference=form.reference,
        )
        if approve:
            reset_login(form.account, actor=request.user, request=request)
    return form
