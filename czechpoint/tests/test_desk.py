"""The Czech POINT desk: who may use it, identifying the citizen both ways, filing the request
with the request code (typed or from the QR), the foreigner's stated names, the receipt, outages.
"""

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from czechpoint import request_code
from govsim.models import StaffMember
from govsim.outage import set_down
from govsim.rob.models import DataProvisionRequest
from govsim.rob.tests.factories import (
    API_KEY,
    PASSWORD,
    make_citizen,
    make_document,
    make_recipient,
    make_user,
)
from govsim.services import SESSION_KEY
from govsim.signin import MAX_FAILURES
from govsim.tests.people import make_operator, signed_in_as

pytestmark = pytest.mark.django_db

DESK = "/sim/czechpoint/"
LOGIN = "/sim/czechpoint/login/"


def file_url(citizen, document=None) -> str:
    url = f"{DESK}file/{citizen.identifier}/"
    return f"{url}?document={document.pk}" if document else url


def search_by_document(client, kind: str, number: str):
    return client.post(DESK, {"by": "document", "doc-kind": kind, "doc-number": number})


def search_by_name(client, last_name: str, birth_date: str, first_names: str = ""):
    return client.post(
        DESK,
        {
            "by": "name",
            "name-last_name": last_name,
            "name-birth_date": birth_date,
            "name-first_names": first_names,
        },
    )


# --- who may use the desk ---------------------------------------------------------------------
# The desk's clerks are the simulator's own people: a portal account, staff or not, is nobody
# here, and signing in at the desk signs nobody into the portal.


@pytest.mark.parametrize("path", ["", "file/6f1c2a9e-4b7d-5e1a-9c3f-2d8e7b6a5c41/", "receipt/1/"])
def test_an_anonymous_visitor_is_sent_to_the_desks_sign_in(client, path):
    response = client.get(DESK + path)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")


@pytest.mark.parametrize("kind", ["citizen", "staff", "superuser"])
@pytest.mark.parametrize("path", ["", "file/6f1c2a9e-4b7d-5e1a-9c3f-2d8e7b6a5c41/", "receipt/1/"])
def test_a_portal_account_does_not_open_the_desk(client, kind, path):
    user = make_user("jana")
    get_user_model().objects.filter(pk=user.pk).update(
        is_staff=kind != "citizen", is_superuser=kind == "superuser"
    )
    client.force_login(user)

    response = client.get(DESK + path)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")


def test_a_portal_account_cannot_search_either(client):
    client.force_login(make_user("jana"))
    make_document(make_citizen(), "id_card", "203495821")

    response = search_by_document(client, "id_card", "203495821")

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_a_clerk_opens_the_desk(desk):
    response = desk.get(DESK)

    assert response.status_code == 200
    text = response.content.decode()
    assert "Data provision from the Register of inhabitants to another person" in text
    assert "Marie Úřednická" in text  # who is signed in, in the header


def test_a_clerk_signs_in_on_the_desks_page(client, clerk):
    page = client.get(LOGIN)
    response = client.post(LOGIN, {"username": clerk.username, "password": PASSWORD})

    assert page.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == DESK
    assert client.get(DESK).status_code == 200
    clerk.refresh_from_db()
    assert clerk.last_login is not None


def test_the_username_is_not_case_sensitive(client, clerk):
    response = client.post(LOGIN, {"username": "UREDNICE", "password": PASSWORD})

    assert response["Location"] == DESK


def test_a_clerk_signed_in_at_the_desk_is_not_signed_in_to_the_portal(client, clerk):
    client.post(LOGIN, {"username": clerk.username, "password": PASSWORD})

    settings_page = client.get("/settings/")

    assert "_auth_user_id" not in client.session
    assert settings_page.status_code == 302
    assert settings_page["Location"].startswith("/login/")


def test_the_desk_returns_to_the_page_asked_for_but_never_elsewhere(client, clerk):
    wanted = f"{DESK}receipt/1/"
    back = client.post(LOGIN, {"username": clerk.username, "password": PASSWORD, "next": wanted})
    client.post(f"{DESK}logout/")
    away = client.post(
        LOGIN, {"username": clerk.username, "password": PASSWORD, "next": "https://evil.example/"}
    )

    assert back["Location"] == wanted
    assert away["Location"] == DESK


def test_signing_in_at_the_desk_keeps_the_portals_sign_in(client, clerk):
    citizen = make_user("jana")
    client.force_login(citizen)

    client.post(LOGIN, {"username": clerk.username, "password": PASSWORD})
    client.post(f"{DESK}logout/")

    assert client.session["_auth_user_id"] == str(citizen.pk)


def error_of(response) -> str:
    assert response.status_code == 200
    return response.context["form"].non_field_errors()[0]


def test_a_portal_accounts_password_does_not_sign_in_at_the_desk(client, clerk):
    """A portal account of the same name and password as nobody at the desk: refused the same
    way as a wrong password, and signed in nowhere."""
    portal = make_user("jana")
    get_user_model().objects.filter(pk=portal.pk).update(is_staff=True, is_superuser=True)

    portal_account = error_of(client.post(LOGIN, {"username": "jana", "password": PASSWORD}))
    wrong_password = error_of(client.post(LOGIN, {"username": clerk.username, "password": "x"}))

    assert portal_account == wrong_password
    assert "Wrong username or password" in portal_account
    assert "_auth_user_id" not in client.session
    assert client.get(DESK).status_code == 302


def test_an_operator_who_is_no_clerk_is_refused_like_a_wrong_password(client):
    operator = make_operator("spravce")

    response = client.post(LOGIN, {"username": operator.username, "password": PASSWORD})

    assert "Wrong username or password" in error_of(response)
    assert client.get(DESK).status_code == 302


def test_an_operator_who_is_no_clerk_gets_403(client):
    signed_in_as(client, make_operator("spravce"))

    response = client.get(DESK)

    assert response.status_code == 403
    assert "for office clerks only" in response.content.decode()


def test_a_clerk_who_may_no_longer_sign_in_is_refused(client, clerk):
    StaffMember.objects.filter(pk=clerk.pk).update(is_active=False)

    response = client.post(LOGIN, {"username": clerk.username, "password": PASSWORD})

    assert "Wrong username or password" in error_of(response)


def test_a_wrong_password_is_refused(client, clerk):
    response = client.post(LOGIN, {"username": clerk.username, "password": "wrong-password"})

    assert "Wrong username or password" in error_of(response)
    assert SESSION_KEY not in client.session
    assert client.get(DESK).status_code == 302


def test_after_too_many_failures_even_the_right_password_is_refused(client, clerk):
    for _ in range(MAX_FAILURES):
        client.post(LOGIN, {"username": clerk.username, "password": "guess"})

    response = client.post(LOGIN, {"username": clerk.username, "password": PASSWORD})

    assert "Wrong username or password" in error_of(response)
    assert client.get(DESK).status_code == 302


def test_lookalike_letters_do_not_buy_more_guesses(client, clerk):
    """PostgreSQL's case-insensitive match takes a dotless i (U+0131) for an i; the counter must not
    count it as another name."""
    lookalike = clerk.username.replace("i", "ı")
    assert lookalike != clerk.username, "the demo clerk's name has an i"
    for _ in range(MAX_FAILURES):
        client.post(LOGIN, {"username": clerk.username, "password": "guess"})

    response = client.post(LOGIN, {"username": lookalike, "password": PASSWORD})

    assert "Wrong username or password" in error_of(response)
    assert client.get(DESK).status_code == 302


def test_an_empty_form_is_a_form_error(client):
    response = client.post(LOGIN, {})

    assert response.status_code == 200
    assert "This field is required" in response.content.decode()


def test_signing_out(desk):
    response = desk.post(f"{DESK}logout/")

    assert response.status_code == 302
    assert desk.get(DESK).status_code == 302


def test_a_new_password_ends_the_clerks_sessions(desk, clerk):
    assert desk.get(DESK).status_code == 200

    clerk.set_password("nove-heslo-2026-x")
    clerk.save()

    assert desk.get(DESK).status_code == 302


def test_clerks_are_not_portal_accounts(clerk):
    assert not get_user_model().objects.filter(username=clerk.username).exists()


# --- identifying the citizen ------------------------------------------------------------------


def test_a_document_number_leads_to_the_filing_page(desk):
    citizen = make_citizen()
    card = make_document(citizen, "id_card", "203495821")

    response = search_by_document(desk, "id_card", "203 495 821")

    assert response.status_code == 302
    assert response["Location"] == file_url(citizen, card)


@pytest.mark.parametrize("kind", ["passport", "residence_certificate"])
def test_other_documents_identify_too(desk, kind):
    citizen = make_citizen()
    document = make_document(citizen, kind, "PA1234567")

    response = search_by_document(desk, kind, "pa1234567")

    assert response["Location"] == file_url(citizen, document)


def test_an_unknown_document_says_so(desk):
    make_document(make_citizen(), "id_card", "203495821")

    response = search_by_document(desk, "passport", "203495821")

    assert response.status_code == 200
    assert "No document of this kind and number" in response.content.decode()


def test_an_expired_document_does_not_identify(desk):
    citizen = make_citizen()
    make_document(citizen, "id_card", "203495821", valid_until=date(2020, 1, 1))

    response = search_by_document(desk, "id_card", "203495821")

    assert response.status_code == 200
    assert "expired" in response.content.decode()


def test_name_and_birth_date_list_the_matches_to_choose_from(desk):
    praha = make_citizen(first_names="Jan", last_name="Novák", birth_date=date(1990, 5, 5))
    olomouc = make_citizen(
        first_names="Jan", last_name="Novák", birth_date=date(1990, 5, 5), municipality="Olomouc"
    )
    make_citizen(first_names="Jan", last_name="Novák", birth_date=date(1970, 5, 5))

    response = search_by_name(desk, "Novák", "1990-05-05")

    text = response.content.decode()
    assert response.status_code == 200
    assert "Several people match" in text
    assert file_url(praha) in text and file_url(olomouc) in text
    assert text.count("/sim/czechpoint/file/") == 2


def test_a_czech_date_is_accepted_in_the_name_search(desk):
    citizen = make_citizen(last_name="Řeháková", birth_date=date(1958, 1, 30))

    response = search_by_name(desk, "řeháková", "30. 1. 1958")

    assert file_url(citizen) in response.content.decode()


def test_nobody_found_by_name_says_so(desk):
    response = search_by_name(desk, "Nikdo", "1990-05-05")

    assert "Nobody in the register" in response.content.decode()


def test_a_bad_birth_date_is_a_form_error(desk):
    response = search_by_name(desk, "Novák", "not a date")

    assert response.status_code == 200
    assert "Enter a valid date" in response.content.decode()


# --- the deceased -----------------------------------------------------------------------------


def test_a_deceased_citizen_found_by_document_cannot_be_served(desk):
    citizen = make_citizen(deceased=True, death_date=date(2024, 12, 1))
    make_document(citizen, "id_card", "200123456")

    response = search_by_document(desk, "id_card", "200123456")

    assert response.status_code == 200
    assert "deceased" in response.content.decode()


def test_a_deceased_citizen_found_by_name_cannot_be_chosen(desk):
    citizen = make_citizen(last_name="Veselá", deceased=True, death_date=date(2024, 12, 1))

    text = search_by_name(desk, "Veselá", "1985-03-14").content.decode()

    assert "Deceased: cannot be served" in text
    assert file_url(citizen) not in text


def test_a_deceased_citizen_cannot_be_filed_even_by_address(desk, recipient):
    citizen = make_citizen(deceased=True, death_date=date(2024, 12, 1))

    page = desk.get(file_url(citizen))
    post = desk.post(
        file_url(citizen), {"request_code": request_code.generate(), "recipient": recipient.pk}
    )

    assert "deceased" in page.content.decode()
    assert "deceased" in post.content.decode()
    assert not DataProvisionRequest.objects.exists()


# --- filing the request -----------------------------------------------------------------------


def test_filing_with_a_typed_code_makes_the_provision_and_the_receipt(desk, clerk, recipient):
    citizen = make_citizen()
    card = make_document(citizen, "id_card", "203495821")
    code = request_code.generate()

    page = desk.get(file_url(citizen, card))
    response = desk.post(
        file_url(citizen, card),
        {"request_code": code.replace("-", " ").lower(), "recipient": recipient.pk},
    )

    provision = DataProvisionRequest.objects.get()
    assert page.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == f"{DESK}receipt/{provision.pk}/"
    assert provision.request_code == code  # the canonical form
    assert provision.citizen == citizen
    assert provision.document == card
    assert provision.clerk == clerk
    assert provision.recipient == recipient
    assert provision.office == clerk.office
    assert provision.stated_first_names == provision.stated_last_name == ""


def test_the_clerks_name_reaches_the_registers_feed(client, clerk, recipient):
    client.post(LOGIN, {"username": clerk.username, "password": PASSWORD})
    client.post(
        file_url(make_citizen()),
        {"request_code": request_code.generate(), "recipient": recipient.pk},
    )

    feed = client.get("/sim/rob/api/v1/provisions", headers={"Authorization": f"Bearer {API_KEY}"})

    (item,) = feed.json()["items"]
    assert (item["clerk"], item["office"]) == ("Marie Úřednická", clerk.office)


def test_filing_with_the_qr_content(desk, recipient):
    citizen = make_citizen()
    code = request_code.generate()

    desk.post(
        file_url(citizen),
        {"request_code": f"mojeid:request?code={code}", "recipient": recipient.pk},
    )

    provision = DataProvisionRequest.objects.get()
    assert provision.request_code == code
    assert provision.document is None  # identified by name and birth date


def test_a_well_formed_code_the_portal_never_issued_is_accepted(desk, recipient):
    """The desk checks the form only: it cannot know which codes the portal gave out."""
    payload = "ZZZZZZZZZZZ"
    invented = payload + request_code.check_character(payload)

    response = desk.post(
        file_url(make_citizen()), {"request_code": invented, "recipient": recipient.pk}
    )

    assert response.status_code == 302
    assert DataProvisionRequest.objects.get().request_code == "ZZZZ-ZZZZ-ZZZ" + invented[-1]


@pytest.mark.parametrize(
    "typed, message",
    [
        ("0000-0000-001Z", "does not match"),  # wrong check character
        ("0000-0000-001", "this one has 11"),  # wrong length
        ("0000-0000-0U1Y", "without I, L, O and U"),  # bad alphabet
        ("mojeid:request?code=0000-0000-001Z", "does not match"),
        ("", "This field is required"),
    ],
)
def test_a_malformed_code_is_refused_with_a_reason(desk, recipient, typed, message):
    response = desk.post(
        file_url(make_citizen()), {"request_code": typed, "recipient": recipient.pk}
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not DataProvisionRequest.objects.exists()


def test_the_only_recipient_is_preselected(desk, recipient):
    text = desk.get(file_url(make_citizen())).content.decode()

    assert f'<option value="{recipient.pk}" selected>MojeID</option>' in text
    assert "---------" not in text


def test_with_several_recipients_the_clerk_must_choose(desk, recipient):
    other = make_recipient("other", "other-key", "Jiný příjemce")
    citizen = make_citizen()

    unchosen = desk.post(file_url(citizen), {"request_code": request_code.generate()})
    chosen = desk.post(
        file_url(citizen), {"request_code": request_code.generate(), "recipient": other.pk}
    )

    assert unchosen.status_code == 200
    assert chosen.status_code == 302
    assert DataProvisionRequest.objects.get().recipient == other


def test_a_double_submit_files_once(desk, recipient):
    citizen = make_citizen()
    data = {"request_code": request_code.generate(), "recipient": recipient.pk}

    first = desk.post(file_url(citizen), data)
    second = desk.post(file_url(citizen), data)

    assert first["Location"] == second["Location"]
    assert DataProvisionRequest.objects.count() == 1


def test_a_document_of_another_citizen_is_not_found(desk):
    citizen = make_citizen()
    elses = make_document(make_citizen(last_name="Jiná"))

    assert desk.get(file_url(citizen, elses)).status_code == 404
    assert desk.get(f"{file_url(citizen)}?document=abc").status_code == 404


@pytest.mark.parametrize(
    "document_id",
    [
        "\u00b2",  # a superscript two: str.isdigit() says yes, int() says no
        "9" * 5000,  # beyond Python's limit for converting a string to an int
        "9" * 19,  # beyond a database id
    ],
)
def test_a_document_that_is_no_id_is_not_found(desk, document_id):
    citizen = make_citizen()
    make_document(citizen)

    response = desk.get(file_url(citizen), {"document": document_id})

    assert response.status_code == 404


def test_a_document_id_in_other_digits_than_ascii_is_not_found(desk):
    citizen = make_citizen()
    document = make_document(citizen)
    arabic_indic = str(document.pk).translate({ord("0") + d: 0x0660 + d for d in range(10)})

    response = desk.get(file_url(citizen), {"document": arabic_indic})

    assert response.status_code == 404


# --- a foreigner with a residence certificate -------------------------------------------------


def test_a_foreigners_names_are_stored_exactly_as_typed(desk, recipient):
    citizen = make_citizen(
        first_names="Ólafur",
        last_name="Jóhannsson",
        birth_date=date(1988, 6, 17),
        citizenship="IS",
        residence_type="foreigner_temporary",
    )
    certificate = make_document(citizen, "residence_certificate", "PP0123456")

    page = desk.get(file_url(citizen, certificate))
    response = desk.post(
        file_url(citizen, certificate),
        {
            "request_code": request_code.generate(),
            "recipient": recipient.pk,
            "stated_first_names": "Ólafur Þór",
            "stated_last_name": "Jóhannsson",
            "stated_birth_date": "17.06.1988",
        },
    )

    assert "as on the residence certificate" in page.content.decode()
    assert response.status_code == 302
    provision = DataProvisionRequest.objects.get()
    assert provision.stated_first_names == "Ólafur Þór"
    assert provision.stated_last_name == "Jóhannsson"
    assert provision.stated_birth_date == date(1988, 6, 17)
    assert provision.document == certificate


def test_the_foreigners_stated_names_are_required(desk, recipient):
    citizen = make_citizen(first_names="Ólafur", last_name="Jóhannsson", citizenship="IS")
    certificate = make_document(citizen, "residence_certificate", "PP0123456")

    response = desk.post(
        file_url(citizen, certificate),
        {"request_code": request_code.generate(), "recipient": recipient.pk},
    )

    assert response.status_code == 200
    assert not DataProvisionRequest.objects.exists()


def test_a_citizen_identified_by_an_id_card_is_not_asked_for_stated_names(desk):
    citizen = make_citizen()
    card = make_document(citizen, "id_card")

    assert "stated_first_names" not in desk.get(file_url(citizen, card)).content.decode()


# --- the receipt ------------------------------------------------------------------------------


def test_the_receipt_shows_what_was_filed_and_prints(desk, recipient):
    citizen = make_citizen(first_names="Zdeňka", last_name="Řeháková", birth_date=date(1958, 1, 30))
    code = request_code.generate()
    response = desk.post(file_url(citizen), {"request_code": code, "recipient": recipient.pk})

    receipt = desk.get(response["Location"])

    text = receipt.content.decode()
    provision = DataProvisionRequest.objects.get()
    assert receipt.status_code == 200
    for expected in [code, "Zdeňka Řeháková", "30. 1. 1958", "MojeID", provision.office]:
        assert expected in text
    assert "Marie Úřednická" in text  # the clerk
    assert "@media print" in text


def test_the_receipt_of_a_foreigner_shows_the_stated_names(desk, recipient):
    citizen = make_citizen(first_names="Ólafur", last_name="Jóhannsson", citizenship="IS")
    certificate = make_document(citizen, "residence_certificate", "PP0123456")
    response = desk.post(
        file_url(citizen, certificate),
        {
            "request_code": request_code.generate(),
            "recipient": recipient.pk,
            "stated_first_names": "Ólafur",
            "stated_last_name": "Jóhannsson",
            "stated_birth_date": "1988-06-17",
        },
    )

    text = desk.get(response["Location"]).content.decode()

    assert "Name as on the document" in text
    assert "PP0123456" in text


def test_an_unknown_receipt_is_404(desk):
    assert desk.get(f"{DESK}receipt/999999/").status_code == 404


# --- outages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "login/", "receipt/1/"])
def test_while_czechpoint_is_down_the_desk_answers_503(client, clerk, path):
    signed_in_as(client, clerk)
    set_down("czechpoint", True)

    response = client.get(DESK + path)

    assert response.status_code == 503
    assert "temporarily unavailable" in response.content.decode()


def test_while_czechpoint_is_down_nothing_is_filed(desk, recipient):
    set_down("czechpoint", True)

    response = desk.post(
        file_url(make_citizen()),
        {"request_code": request_code.generate(), "recipient": recipient.pk},
    )

    assert response.status_code == 503
    assert not DataProvisionRequest.objects.exists()


def test_while_the_register_is_down_the_desk_cannot_search(desk):
    make_document(make_citizen(), "id_card", "203495821")
    set_down("rob", True)

    by_document = search_by_document(desk, "id_card", "203495821")
    by_name = search_by_name(desk, "Nováková", "1985-03-14")

    for response in (by_document, by_name):
        assert response.status_code == 503
        assert "Base register of inhabitants" in response.content.decode()


def test_while_the_register_is_down_nothing_is_filed(desk, recipient):
    set_down("rob", True)

    response = desk.post(
        file_url(make_citizen()),
        {"request_code": request_code.generate(), "recipient": recipient.pk},
    )

    assert response.status_code == 503
    assert not DataProvisionRequest.objects.exists()


def test_the_portals_auth_holds_no_clerks_group_or_desk_permission():
    from django.contrib.auth.models import Group, Permission

    assert not Group.objects.filter(name="Czech POINT clerks").exists()
    assert not Permission.objects.filter(content_type__app_label="czechpoint").exists()
