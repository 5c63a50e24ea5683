"""Bad input on every form is answered by a form error, never a 500.

Empty values, 10 000-character values, control and invisible characters, non-Latin scripts, emoji,
impossible dates, malformed or landline phone numbers and wrong postal codes are refused on the
registration, sign-in, re-authentication, confirmation-code, profile, password and contact pages,
and nothing is stored. The test client re-raises any exception a view lets escape, so a 500 fails
the test. Positive cases (diacritics, apostrophes, number and postal-code normalisation) show that
the checks do not simply refuse everything.
"""

import re
from datetime import date, timedelta

import pytest

from accounts.models import PROFILE_FIELDS, AuditEvent, ContactCode, Profile, User
from accounts.services.contacts import send_code
from conftest import PASSWORD
from mojeid.models import OutboxMessage

pytestmark = pytest.mark.django_db

LONG = "x" * 10_000

# Text that no name, address line or identifier may hold.
GARBAGE_TEXT = {
    "empty": "",
    "10k-chars": LONG,
    "nul": "Jana\x00",
    "bell": "Ja\x07na",
    "rtl-override": "\u202eanaJ",
    "zero-width-space": "Ja\u200bna",
}
NON_LATIN_NAMES = {
    "cyrillic": "Иван",
    "greek": "Γιώργος",
    "chinese": "李小龙",
    "arabic": "محمد",
    "emoji": "Jana 😀",
}
BAD_PHONES = {
    "empty": "",
    "too-short": "12",
    "incomplete": "+420 123",
    "too-long": "+420 601 123 456 789",
    "double-plus": "++420",
    "letters-only": "abc",
    "landline": "+420 222 123 456",
    "nul": "+420 601 123 456\x00",
    "rtl-override": "\u202e+420 601 123 456",
    "zero-width-space": "+420\u200b601123456",
    "10k-chars": LONG,
}
# phonenumbers reads letters as keypad digits ("601 ABC DEF" → +420 601 222 333): a typo becomes
# somebody else's number, and "ext." silently drops the extension.
LETTERS_IN_PHONE = [
    pytest.param(value, id=name)
    for name, value in {
        "letters-in-number": "601 ABC DEF",
        "extension": "601 123 456 ext. 12",
    }.items()
]
BAD_EMAILS = {
    "empty": "",
    "10k-chars": LONG + "@example.cz",
    "nul": "jana\x00@example.cz",
    "zero-width-space": "jana@exam\u200bple.cz",
    "rtl-override": "\u202ejana@example.cz",
    "cyrillic-local-part": "иван@example.cz",
    "no-domain": "jana@",
    "two-ats": "jana@@example.cz",
    "space": "ja na@example.cz",
}
BAD_CODES = {
    "empty": "",
    "10k-chars": "1" * 10_000,
    "nul": "12345\x00",
    "letters": "12a456",
    "arabic-indic-digits": "١٢٣٤٥٦",
    "fullwidth-digits": "１２３４５６",
    "rtl-override": "\u202e123456",
    "zero-width-space": "123\u200b456",
    "emoji": "😀",
}


def _cases(mapping: dict) -> list:
    return [pytest.param(value, id=name) for name, value in mapping.items()]


def _errors(response) -> dict:
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors, "the form should have been refused"
    assert 'class="errorlist' in response.content.decode()
    return form.errors


# --- registration -------------------------------------------------------------------------------

REGISTRATION = {
    "username": "zdenek",
    "first_name": "Zdeněk",
    "last_name": "Novák",
    "email": "zdenek@example.cz",
    "phone": "+420 777 123 456",
    "password1": PASSWORD,
    "password2": PASSWORD,
}


def _register(client, **changes):
    return client.post("/register/", {**REGISTRATION, **changes})


def _assert_nobody_registered():
    assert not User.objects.exists()
    assert not ContactCode.objects.exists()
    assert not OutboxMessage.objects.exists()


REGISTRATION_CASES = [
    *[
        pytest.param(field, value, id=f"{field}-{name}")
        for field in ("first_name", "last_name")
        for name, value in {**GARBAGE_TEXT, **NON_LATIN_NAMES}.items()
    ],
    *[
        pytest.param("username", value, id=f"username-{name}")
        for name, value in {
            **GARBAGE_TEXT,
            "cyrillic": "иван",
            "chinese": "用户名",
            "emoji": "😀😀😀",
            "space": "ja na",
        }.items()
    ],
    *[pytest.param("email", value, id=f"email-{name}") for name, value in BAD_EMAILS.items()],
    *[pytest.param("phone", value, id=f"phone-{name}") for name, value in BAD_PHONES.items()],
]


@pytest.mark.parametrize(("field", "value"), REGISTRATION_CASES)
def test_registration_refuses_bad_input(client, field, value):
    response = _register(client, **{field: value})

    assert field in _errors(response)
    _assert_nobody_registered()


@pytest.mark.parametrize(
    "password",
    _cases({"empty": "", "10k-chars": LONG, "nul": PASSWORD + "\x00", "short": "kun-upel"}),
)
def test_registration_refuses_bad_passwords(client, password):
    response = _register(client, password1=password, password2=password)

    assert "password1" in _errors(response)
    _assert_nobody_registered()


def test_registration_refuses_differing_passwords(client):
    response = _register(client, password2=PASSWORD + "!")

    assert _errors(response)["password2"] == ["The two passwords differ."]
    _assert_nobody_registered()


def test_registration_refuses_a_landline_because_sms_needs_a_mobile(client):
    response = _register(client, phone="+420 222 123 456")

    assert _errors(response)["phone"] == [
        "Enter a mobile phone number: we send the confirmation code by SMS."
    ]


@pytest.mark.parametrize("phone", LETTERS_IN_PHONE)
def test_registration_refuses_letters_in_the_phone_number(client, phone):
    response = _register(client, phone=phone)

    assert "phone" in _errors(response)
    _assert_nobody_registered()


def test_registration_accepts_diacritics_and_apostrophes_in_names(client):
    response = _register(client, first_name="Příliš žluťoučký kůň", last_name="O'Neil-Smith")

    assert response.status_code == 302
    profile = User.objects.get(username="zdenek").profile
    assert (profile.first_name, profile.last_name) == ("Příliš žluťoučký kůň", "O'Neil-Smith")


@pytest.mark.parametrize("phone", ["+420 601 123 456", "601123456", "00420 601 123 456"])
def test_registration_normalises_the_phone_number(client, phone):
    response = _register(client, phone=phone)

    assert response.status_code == 302
    assert User.objects.get(username="zdenek").profile.phone == "+420601123456"


# --- sign-in and re-authentication --------------------------------------------------------------

LOGIN_CASES = [
    *[
        pytest.param(value, PASSWORD, id=f"login-{name}")
        for name, value in {
            **GARBAGE_TEXT,
            "cyrillic": "иван",
            "chinese": "李",
            "emoji": "😀",
            "nul-after-username": "jana\x00",
            "rtl-before-username": "\u202ejana",
        }.items()
    ],
    *[
        pytest.param("jana", value, id=f"password-{name}")
        for name, value in {
            "empty": "",
            "10k-chars": LONG,
            "nul": PASSWORD + "\x00",
            "zero-width-space": PASSWORD + "\u200b",
            "cyrillic": "пароль-пароль",
        }.items()
    ],
]


@pytest.mark.parametrize(("login", "password"), LOGIN_CASES)
def test_login_refuses_bad_input(client, user, login, password):
    response = client.post("/login/", {"login": login, "password": password})

    _errors(response)
    assert "_auth_user_id" not in client.session


REAUTH_CASES = {
    "empty": "",
    "10k-chars": LONG,
    "nul": PASSWORD + "\x00",
    "zero-width-space": PASSWORD + "\u200b",
    "rtl-override": "\u202e" + PASSWORD,
    "emoji": "😀",
    "wrong": "wrong-password-2026",
}


@pytest.mark.parametrize("password", _cases(REAUTH_CASES))
def test_reauthentication_refuses_bad_input(signed_in, password):
    response = signed_in.post("/account/reauthenticate/", {"password": password})

    assert "password" in _errors(response)
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.REAUTHENTICATED).exists()


def test_reauthentication_accepts_the_right_password(signed_in):
    response = signed_in.post("/account/reauthenticate/", {"password": PASSWORD})

    assert response.status_code == 302
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.REAUTHENTICATED).exists()


# --- confirmation codes -------------------------------------------------------------------------


@pytest.fixture
def awaiting_codes(client, make_user):
    """A signed-in client whose user has an e-mail and a phone code waiting to be typed in."""
    user = make_user("jana", confirmed=False)
    send_code(user, ContactCode.Channel.EMAIL)
    send_code(user, ContactCode.Channel.PHONE)
    response = client.post("/login/", {"login": "jana", "password": PASSWORD})
    assert response.status_code == 302
    return client, user


@pytest.mark.parametrize("channel", ["email", "phone"])
@pytest.mark.parametrize("code", _cases(BAD_CODES))
def test_confirmation_refuses_malformed_codes(awaiting_codes, channel, code):
    client, user = awaiting_codes

    response = client.post(f"/account/confirm/{channel}/", {"code": code})

    assert response.status_code == 302
    assert response["Location"] == "/account/confirm/"
    page = client.get(response["Location"])
    assert [m.level_tag for m in page.context["messages"]] == ["error"]
    profile = Profile.objects.get(pk=user.pk)
    assert not profile.email_confirmed and not profile.phone_confirmed
    assert not ContactCode.objects.filter(user=user, used_at__isnull=False).exists()


def test_confirmation_accepts_the_right_code_with_spaces(awaiting_codes, deliver):
    client, user = awaiting_codes
    pin = re.search(r"\b(\d{6})\b", deliver()[1][-1]["text"]).group(1)

    response = client.post("/account/confirm/phone/", {"code": f" {pin[:3]} {pin[3:]} "})

    assert response.status_code == 302
    assert Profile.objects.get(pk=user.pk).phone_confirmed


# --- the profile form ---------------------------------------------------------------------------

PROFILE = {
    "first_name": "Jana",
    "last_name": "Nováková",
    "birth_date": "1985-03-14",
    "street": "Na Příkopě 12/3a",
    "city": "Praha 1",
    "postal_code": "110 00",
    "country": "CZ",
    "organisation": "Nadace Dobrý den",
}
TOMORROW = (date.today() + timedelta(days=1)).isoformat()

PROFILE_CASES = [
    *[
        pytest.param(field, value, id=f"{field}-{name}")
        for field in ("first_name", "last_name")
        for name, value in {**GARBAGE_TEXT, **NON_LATIN_NAMES}.items()
        if name != "empty"  # names are optional on the profile
    ],
    *[
        pytest.param("birth_date", value, id=f"birth_date-{name}")
        for name, value in {
            "february-30": "2024-02-30",
            "czech-1899": "31.12.1899",
            "iso-1899": "1899-12-31",
            "tomorrow": TOMORROW,
            "letters": "abc",
            "zeros": "0000-00-00",
            "month-13": "2024-13-01",
            "nul": "1985-03-14\x00",
            "10k-chars": LONG,
        }.items()
    ],
    *[
        pytest.param(field, value, id=f"{field}-{name}")
        for field in ("street", "city")
        for name, value in {
            **GARBAGE_TEXT,
            "cyrillic": "Тверская 1",
            "chinese": "北京",
            "emoji": "Brno 😀",
        }.items()
        if name != "empty"
    ],
    *[
        pytest.param("postal_code", value, id=f"postal_code-{name}")
        for name, value in {
            "four-digits": "1234",
            "six-digits": "123456",
            "letters": "abcde",
            "hyphen": "110-00",
            "nul": "110 00\x00",
            "10k-chars": LONG,
        }.items()
    ],
    *[
        pytest.param("country", value, id=f"country-{name}")
        for name, value in {"empty": "", "unknown": "ZZ", "lowercase": "cz", "nul": "C\x00"}.items()
    ],
    *[
        pytest.param("organisation", value, id=f"organisation-{name}")
        for name, value in GARBAGE_TEXT.items()
        if name != "empty"
    ],
]


def _stored_profile(user) -> dict:
    return Profile.objects.filter(pk=user.pk).values(*PROFILE_FIELDS).get()


@pytest.fixture
def profile_client(signed_in, user):
    """The signed-in client, with the profile filled in as PROFILE says."""
    response = signed_in.post("/settings/profile/", PROFILE)
    assert response.status_code == 302
    return signed_in


@pytest.mark.parametrize(("field", "value"), PROFILE_CASES)
def test_profile_form_refuses_bad_input(profile_client, user, field, value):
    before = _stored_profile(user)

    response = profile_client.post("/settings/profile/", {**PROFILE, field: value})

    assert field in _errors(response)
    assert _stored_profile(user) == before
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.PROFILE_UPDATED).count() == 1


def test_profile_form_refuses_a_birth_date_before_1900(profile_client):
    response = profile_client.post("/settings/profile/", {**PROFILE, "birth_date": "1899-12-31"})

    assert _errors(response)["birth_date"] == ["Enter a date of birth between 1900 and today."]


def test_profile_form_refuses_a_four_digit_czech_postal_code(profile_client):
    response = profile_client.post("/settings/profile/", {**PROFILE, "postal_code": "1234"})

    assert _errors(response)["postal_code"] == ["A Czech postal code has five digits, e.g. 110 00."]


def test_profile_form_refuses_a_postal_code_in_arabic_indic_digits(profile_client, user):
    response = profile_client.post("/settings/profile/", {**PROFILE, "postal_code": "١١٠٠٠"})

    assert "postal_code" in _errors(response)
    assert _stored_profile(user)["postal_code"] == "110 00"


def test_profile_form_accepts_diacritics_and_apostrophes_in_names(profile_client, user):
    response = profile_client.post(
        "/settings/profile/",
        {**PROFILE, "first_name": "Příliš žluťoučký kůň", "last_name": "O'Neil-Smith"},
    )

    assert response.status_code == 302
    stored = _stored_profile(user)
    assert (stored["first_name"], stored["last_name"]) == ("Příliš žluťoučký kůň", "O'Neil-Smith")


@pytest.mark.parametrize(
    ("country", "typed", "stored"),
    [("CZ", "11000", "110 00"), ("CZ", " 602 00 ", "602 00"), ("GB", "sw1a 1aa", "SW1A 1AA")],
)
def test_profile_form_normalises_the_postal_code(profile_client, user, country, typed, stored):
    response = profile_client.post(
        "/settings/profile/", {**PROFILE, "country": country, "postal_code": typed}
    )

    assert response.status_code == 302
    assert _stored_profile(user)["postal_code"] == stored


@pytest.mark.parametrize("birth_date", ["1900-01-01", date.today().isoformat()])
def test_profile_form_accepts_the_edges_of_the_birth_date_range(profile_client, user, birth_date):
    response = profile_client.post("/settings/profile/", {**PROFILE, "birth_date": birth_date})

    assert response.status_code == 302
    assert _stored_profile(user)["birth_date"] == date.fromisoformat(birth_date)


# --- password and contact changes (a fresh sign-in counts as a recent re-authentication) -------

PASSWORD_CASES = {
    "empty": ("", ""),
    "10k-chars": (LONG, LONG),
    "nul": (PASSWORD + "\x00", PASSWORD + "\x00"),
    "differ": ("nova-hesla-kun-2026", "nova-hesla-kun-2027"),
    "too-short": ("kun-upel", "kun-upel"),
    "common": ("password123", "password123"),
    "numeric": ("8364019275", "8364019275"),
    "like-the-username": ("jana-jana", "jana-jana"),
}


@pytest.mark.parametrize(
    ("new1", "new2"), [pytest.param(*pair, id=name) for name, pair in PASSWORD_CASES.items()]
)
def test_password_change_refuses_bad_input(signed_in, user, new1, new2):
    response = signed_in.post("/settings/password/", {"new_password1": new1, "new_password2": new2})

    _errors(response)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.PASSWORD_CHANGED).exists()


def test_password_change_accepts_a_good_password(signed_in, user):
    new = "nova-hesla-kun-2026"

    response = signed_in.post("/settings/password/", {"new_password1": new, "new_password2": new})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)


def _assert_no_code_sent():
    assert not ContactCode.objects.exists()
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize("email", _cases(BAD_EMAILS))
def test_email_change_refuses_bad_input(signed_in, email):
    response = signed_in.post("/settings/contact/email/", {"email": email})

    assert "email" in _errors(response)
    _assert_no_code_sent()


def test_email_change_sends_a_code_to_a_good_address(signed_in, user):
    response = signed_in.post("/settings/contact/email/", {"email": " Nova@Example.CZ "})

    assert response.status_code == 302
    assert ContactCode.objects.get(user=user).target == "nova@example.cz"


@pytest.mark.parametrize("phone", _cases(BAD_PHONES))
def test_phone_change_refuses_bad_input(signed_in, phone):
    response = signed_in.post("/settings/contact/phone/", {"phone": phone})

    assert "phone" in _errors(response)
    _assert_no_code_sent()


@pytest.mark.parametrize("phone", LETTERS_IN_PHONE)
def test_phone_change_refuses_letters_in_the_number(signed_in, phone):
    response = signed_in.post("/settings/contact/phone/", {"phone": phone})

    assert "phone" in _errors(response)
    _assert_no_code_sent()


def test_phone_change_refuses_a_landline(signed_in):
    response = signed_in.post("/settings/contact/phone/", {"phone": "+420 222 123 456"})

    assert _errors(response)["phone"] == [
        "Enter a mobile phone number: we send the confirmation code by SMS."
    ]


@pytest.mark.parametrize("phone", ["+420 602 123 456", "602123456", "+420602123456"])
def test_phone_change_normalises_the_number(signed_in, user, phone):
    response = signed_in.post("/settings/contact/phone/", {"phone": phone})

    assert response.status_code == 302
    assert ContactCode.objects.get(user=user).target == "+420602123456"
