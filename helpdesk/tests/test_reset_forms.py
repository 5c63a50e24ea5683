"""The verified paper form, four eyes: a helpdesk operator records it with its scan (PDF or image
by content, at most 10 MB, never served publicly); a supervisor who did not record it views the
scan and approves — the login is reset — or rejects it. The recorder cannot decide their own
case, and an operator cannot decide at all."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import AuditEvent
from helpdesk.models import ResetForm
from helpdesk.roles import ensure_helpdesk_group, ensure_supervisor_group
from twofactor.models import KlicDevice

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.7\n" + b"0" * 2000


@pytest.fixture(autouse=True)
def _scans_elsewhere(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def _staff(make_user, sign_in_verified, name: str, group) -> tuple:
    member = make_user(name, is_staff=True, email=f"{name}@mojeid.example")
    member.groups.add(group)
    return member, sign_in_verified(Client(HTTP_ACCEPT_LANGUAGE="en"), member)


@pytest.fixture
def operator(make_user, sign_in_verified):
    return _staff(make_user, sign_in_verified, "operator", ensure_helpdesk_group())


@pytest.fixture
def supervisor(make_user, sign_in_verified):
    return _staff(make_user, sign_in_verified, "vedouci", ensure_supervisor_group())


def record(browser, account, scan=PDF, name="form.pdf"):
    return browser.post(
        "/admin/helpdesk/resetform/add/",
        {
            "account": str(account.pk),
            "reference": "CzP-2026-000123",
            "verified_on": "2026-12-01",
            "scan": SimpleUploadedFile(name, scan, content_type="application/pdf"),
        },
    )


def test_a_recorded_form_approved_by_another_supervisor_resets_the_login(
    operator, supervisor, caller, deliver
):
    recorder, operator_browser = operator
    boss, boss_browser = supervisor
    KlicDevice.objects.create(user=caller, confirmed=True, public_key=b"k", pin_verifier="v")

    assert record(operator_browser, caller).status_code == 302
    form = ResetForm.objects.get()
    scan = boss_browser.get(f"/admin/helpdesk/resetform/{form.pk}/scan/")
    decided = boss_browser.post(
        f"/admin/helpdesk/resetform/{form.pk}/decide/", {"decision": "approve", "note": "OK"}
    )

    assert scan.status_code == 200 and scan["Content-Type"] == "application/pdf"
    assert b"".join(scan.streaming_content) == PDF
    assert decided.status_code == 302
    form.refresh_from_db()
    assert (form.state, form.decided_by, form.recorded_by) == ("approved", boss, recorder)
    assert not KlicDevice.objects.filter(user=caller).exists()
    kinds = set(AuditEvent.objects.filter(user=caller).values_list("kind", flat=True))
    assert {"helpdesk_reset_form_recorded", "helpdesk_reset_form_approved"} <= kinds
    assert "two_factor_reset" in kinds
    assert any("/password/reset/" in mail.body for mail in deliver()[0])


def test_the_recorder_cannot_approve_their_own_case(supervisor, caller):
    _boss, browser = supervisor
    record(browser, caller)
    form = ResetForm.objects.get()

    browser.post(f"/admin/helpdesk/resetform/{form.pk}/decide/", {"decision": "approve"})

    form.refresh_from_db()
    assert form.state == "waiting" and form.decided_by is None


def test_an_operator_can_neither_decide_nor_view_the_scan(operator, supervisor, caller):
    _boss, boss_browser = supervisor
    _recorder, browser = operator
    record(boss_browser, caller)
    form = ResetForm.objects.get()

    decided = browser.post(f"/admin/helpdesk/resetform/{form.pk}/decide/", {"decision": "approve"})
    scan = browser.get(f"/admin/helpdesk/resetform/{form.pk}/scan/")

    assert decided.status_code == 403 and scan.status_code == 403
    form.refresh_from_db()
    assert form.state == "waiting"


def test_an_operator_cannot_raise_their_own_role(operator):
    member, browser = operator
    supervisor_group = ensure_supervisor_group()

    browser.post(
        f"/admin/accounts/user/{member.pk}/change/",
        {"username": member.username, "groups": [str(supervisor_group.pk)], "language": "en"},
    )

    assert not member.groups.filter(pk=supervisor_group.pk).exists()


@pytest.mark.parametrize(
    ("scan", "name"),
    [
        (b"", "empty.pdf"),
        (b"MZ\x90\x00 not a pdf at all", "form.pdf"),  # a program named .pdf
        (b"<html><script>alert(1)</script>", "form.png"),
        (b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024), "huge.pdf"),
    ],
)
def test_a_bad_scan_is_refused_and_nothing_is_recorded(operator, caller, scan, name):
    _member, browser = operator

    answer = record(browser, caller, scan=scan, name=name)

    assert answer.status_code == 200  # the form again, with its error
    assert not ResetForm.objects.exists()


def test_images_are_scans_too(operator, caller):
    _member, browser = operator

    record(browser, caller, scan=b"\x89PNG\r\n\x1a\n" + b"0" * 100, name="form.png")

    assert ResetForm.objects.get().scan_type == "image/png"


def test_a_rejected_form_changes_nothing_on_the_account(operator, supervisor, caller):
    _recorder, operator_browser = operator
    _boss, boss_browser = supervisor
    device = KlicDevice.objects.create(
        user=caller, confirmed=True, public_key=b"k", pin_verifier="v"
    )
    record(operator_browser, caller)
    form = ResetForm.objects.get()

    boss_browser.post(f"/admin/helpdesk/resetform/{form.pk}/decide/", {"decision": "reject"})

    form.refresh_from_db()
    assert form.state == "rejected" and KlicDevice.objects.filter(pk=device.pk).exists()


def test_a_scan_lost_from_the_disk_is_a_404_not_a_500(operator, supervisor, caller):
    _recorder, operator_browser = operator
    _boss, boss_browser = supervisor
    record(operator_browser, caller)
    form = ResetForm.objects.get()
    form.scan.storage.delete(form.scan.name)

    assert boss_browser.get(f"/admin/helpdesk/resetform/{form.pk}/scan/").status_code == 404
