"""The attestation inspector in the helpdesk admin.

Staff who may see security keys paste or upload a registration response and see what it proves,
as a table and as the command's JSON report; bad input is a form error, never a server error; and
nobody else gets in.
"""

import base64
import html
import json
import re
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from fido2 import cbor

from accounts.models import User
from helpdesk.admin import MAX_INSPECTED_BYTES
from twofactor.inspector import inspect, report
from twofactor.metadata import load_payload
from twofactor.models import MetadataSource
from twofactor.tests.softkey import CertificateAuthority, SoftKey, b64url

pytestmark = pytest.mark.django_db

URL = "/admin/twofactor/securitykey/inspect/"
ROOT = CertificateAuthority("Inspector Root")
CERTIFIED = uuid.UUID("1a5bec70-0000-4000-8000-000000000001")
ORIGIN, RP_ID = "https://webauthn.example", "webauthn.example"  # another site: not checked
UNREADABLE = "This registration response cannot be inspected"


@pytest.fixture(autouse=True)
def metadata(db):
    entry = {
        "aaguid": str(CERTIFIED),
        "metadataStatement": {
            "description": "Inspector Key",
            "protocolFamily": "fido2",
            "attestationRootCertificates": [ROOT.b64],
            "attachmentHint": ["external", "wired"],
        },
        "statusReports": [{"status": "FIDO_CERTIFIED_L1", "effectiveDate": "2024-01-01"}],
    }
    load_payload({"no": 1, "entries": [entry]}, source=MetadataSource.BLOB)


def _staff(make_user, username: str, *permissions: str) -> User:
    user = make_user(username, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=permissions))
    return user


@pytest.fixture
def desk(client, make_user, sign_in_verified):
    """A helpdesk operator who may view security keys, signed in to the admin."""
    return sign_in_verified(client, _staff(make_user, "helpdesk", "view_securitykey"))


def _registration(key: SoftKey) -> dict:
    return key.register(challenge=b"c" * 32, origin=ORIGIN, rp_id=RP_ID)


def _certified() -> dict:
    return _registration(SoftKey(CERTIFIED, authority=ROOT))


def _result_table(page: str) -> str:
    match = re.search(r'id="inspection-result">(.*?)</table>', page, flags=re.DOTALL)
    assert match, "the page should show the result table"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def _raw_report(page: str) -> dict:
    match = re.search(r'id="inspection-report">.*?<pre>(.*?)</pre>', page, flags=re.DOTALL)
    assert match, "the page should show the raw report"
    return json.loads(html.unescape(match.group(1)))


# --- Results ----------------------------------------------------------------------------------


def test_the_form_is_shown_with_breadcrumbs_and_a_csrf_token(desk):
    response = desk.get(URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Inspect security key attestation" in page
    assert 'name="text"' in page and 'type="file"' in page and 'name="upload"' in page
    assert 'name="csrfmiddlewaretoken"' in page and 'method="post"' in page
    assert 'href="/admin/twofactor/securitykey/"' in page, "breadcrumbs lead back to the keys"
    assert "inspection-result" not in page


def test_the_security_keys_list_links_to_the_inspector(desk):
    page = desk.get("/admin/twofactor/securitykey/").content.decode()
    assert f'href="{URL}"' in page


def test_a_certified_packed_key_is_described_and_available(desk):
    text = json.dumps(_certified())

    response = desk.post(URL, {"text": text})

    page = response.content.decode()
    assert response.status_code == 200
    table = _result_table(page)
    assert "Inspector Key" in table
    assert "Hardware security key" in table
    assert "Certification L1" in table
    assert "FIDO_CERTIFIED_L1" in table  # the status list
    assert "Attestation trusted Yes" in table
    assert "Public administration Available" in table
    assert "Not available" not in table
    assert _raw_report(page) == report(inspect(text)), "the same report as the command prints"


def test_a_registration_without_attestation_is_unknown_and_not_available(desk):
    text = json.dumps(_registration(SoftKey(uuid.UUID(int=0), fmt="none")))

    response = desk.post(URL, {"text": text})

    assert response.status_code == 200
    table = _result_table(response.content.decode())
    assert "Key description Unknown" in table
    assert "Certification —" in table
    assert "Attestation trusted No" in table
    assert "Public administration Not available" in table
    assert "no attestation: the key or the browser withheld it" in table
    report_shown = _raw_report(response.content.decode())
    assert report_shown["fmt"] == "none" and report_shown["nia_eligible"] is False


@pytest.mark.parametrize("wrapper", ["response", "credential"])
def test_debugger_exports_wrapped_in_an_outer_object_are_read(desk, wrapper):
    wrapped = {wrapper: _certified(), "tool": "webauthn.io"}

    response = desk.post(URL, {"text": json.dumps(wrapped)})

    assert response.status_code == 200
    assert "Public administration Available" in _result_table(response.content.decode())


def test_an_uploaded_file_is_inspected(desk):
    upload = SimpleUploadedFile(
        "registration.json", json.dumps(_certified()).encode(), content_type="application/json"
    )

    response = desk.post(URL, {"text": "", "upload": upload})

    assert response.status_code == 200
    table = _result_table(response.content.decode())
    assert "Inspector Key" in table and "Available" in table


def test_an_uploaded_file_with_a_byte_order_mark_is_read(desk):
    content = "\ufeff" + json.dumps(_certified())
    upload = SimpleUploadedFile("registration.json", content.encode(), "application/json")

    response = desk.post(URL, {"upload": upload})

    assert "Inspector Key" in _result_table(response.content.decode())


def test_a_superuser_may_inspect_too(client, make_user, sign_in_verified):
    sign_in_verified(client, make_user("root", is_staff=True, is_superuser=True))

    response = client.post(URL, {"text": json.dumps(_certified())})

    assert "Inspector Key" in _result_table(response.content.decode())


# --- Bad input --------------------------------------------------------------------------------


def _unreadable_statement() -> str:
    """A packed registration whose statement is not a map: python-fido2 fails on it oddly."""
    data = _certified()
    raw = base64.urlsafe_b64decode(data["response"]["attestationObject"] + "==")
    attestation = cbor.decode(raw)
    attestation["attStmt"] = [1]
    data["response"]["attestationObject"] = b64url(cbor.encode(attestation))
    return json.dumps(data)


def _file(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("registration.json", content, content_type="application/json")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(lambda: {"text": "garbage, not JSON"}, "not JSON", id="garbage"),
        pytest.param(lambda: {"text": "[1, 2]"}, "no &#x27;response&#x27; object", id="array"),
        pytest.param(
            lambda: {"text": json.dumps({"id": "x", "rawId": "x", "type": "public-key"})},
            "no &#x27;response&#x27; object",
            id="no-response",
        ),
        pytest.param(lambda: {"text": "[" * 100_000}, "not JSON", id="deeply-nested"),
        pytest.param(
            lambda: {"text": _unreadable_statement()},
            "no format or statement map",
            id="odd-statement",
        ),
        pytest.param(lambda: {}, "Paste a registration response or choose a file.", id="empty"),
        pytest.param(
            lambda: {"text": "   \n  "},
            "Paste a registration response or choose a file.",
            id="blank",
        ),
        pytest.param(
            lambda: {"upload": _file(b'{"response": "\xff\xfe\xfd"}')},
            "The file is not UTF-8 text.",
            id="not-utf8-file",
        ),
        pytest.param(
            lambda: {"upload": _file(b" " * (MAX_INSPECTED_BYTES + 1))},
            "The file is larger than 1 MiB.",
            id="too-large-file",
        ),
        pytest.param(
            lambda: {"upload": _file(b"")}, "The submitted file is empty.", id="empty-file"
        ),
        pytest.param(lambda: {"upload": _file(b"no json")}, "not JSON", id="garbage-file"),
        pytest.param(
            lambda: {"text": json.dumps(_certified()), "upload": _file(b"{}")},
            "not both",
            id="text-and-file",
        ),
    ],
)
def test_bad_input_is_a_form_error_not_a_server_error(desk, data, message):
    response = desk.post(URL, data())

    page = response.content.decode()
    assert response.status_code == 200
    assert "errornote" in page and message in page
    assert "inspection-result" not in page and "inspection-report" not in page


def test_an_unreadable_registration_names_the_problem_in_one_line(desk):
    response = desk.post(URL, {"text": "[1, 2]"})

    errors = re.search(r'<ul class="errorlist"[^>]*>(.*?)</ul>', response.content.decode())
    assert errors, "the error is shown at the field"
    assert UNREADABLE in errors.group(1) and "\n" not in errors.group(1)


# --- Who may use it ---------------------------------------------------------------------------


def test_staff_without_the_permission_are_refused(client, make_user, sign_in_verified):
    sign_in_verified(client, _staff(make_user, "intern", "view_user"))

    assert client.get(URL).status_code == 403
    assert client.post(URL, {"text": json.dumps(_certified())}).status_code == 403


def test_an_anonymous_visitor_is_sent_to_the_admin_login(client):
    for response in (client.get(URL), client.post(URL, {"text": "{}"})):
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/?next=")


def test_a_signed_in_user_who_is_not_staff_is_sent_to_the_admin_login(client, user):
    client.force_login(user)

    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_post_without_the_csrf_token_is_refused(make_user, sign_in_verified):
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    sign_in_verified(browser, _staff(make_user, "helpdesk", "view_securitykey"))

    response = browser.post(URL, {"text": json.dumps(_certified())})

    assert response.status_code == 403
    assert "inspection-result" not in response.content.decode()


def test_other_methods_are_not_allowed(desk):
    assert desk.put(URL).status_code == 405
