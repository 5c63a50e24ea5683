"""Re-authentication (the sudo window) and the sensitive changes that need it."""

import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, User
from accounts.reauth import PENDING_ACTION
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "zluty-kun-upel-2027"


def _pin(text: str, digits: int) -> str:
    return re.search(rf"\b(\d{{{digits}}})\b", text).group(1)


@pytest.fixture
def stale(signed_in):
    """A session whose password proof is older than the 5-minute window (but not idle-expired)."""
    traveller = time_machine.travel(timezone.now() + timezone.timedelta(minutes=6), tick=False)
    traveller.start()
    yield signed_in
    traveller.stop()


def test_a_fresh_sign_in_opens_sensitive_pages(signed_in):
    assert signed_in.get("/settings/password/").status_code == 200


def test_an_old_proof_sends_a_get_to_reauthenticate_and_back(stale):
    response = stale.get("/settings/password/")
    assert response["Location"] == "/account/reauthenticate/"

    wrong = stale.post("/account/reauthenticate/", {"password": "wrong"})
    assert "Wrong password" in wrong.content.decode()

    right = stale.post("/account/reauthenticate/", {"password": PASSWORD})
    assert right["Location"] == "/settings/password/"
    assert stale.get("/settings/password/").status_code == 200


def test_a_post_interrupted_by_reauthentication_is_resumed(stale, user, deliver):
    response = stale.post("/settings/contact/email/", {"email": "Jana.New@Example.cz"})
    assert response["Location"] == "/account/reauthenticate/"
    assert not deliver()[0], "nothing may happen before the password is proved"

    resumed = stale.post("/account/reauthenticate/", {"password": PASSWORD})

    assert resumed["Location"] == "/account/confirm/"
    emails = deliver()[0]
    assert [m.to for m in emails] == [["jana.new@example.cz"]]
    assert AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.REAUTHENTICATED).exists()


def test_a_post_holding_a_password_is_never_parked_in_the_session(stale, user):
    stale.post(
        "/settings/password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert "post" not in stale.session[PENDING_ACTION]

    response = stale.post("/account/reauthenticate/", {"password": PASSWORD})

    assert response["Location"] == "/settings/password/"  # shown again to be filled in
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_changing_the_password_mails_the_user_and_signs_out_other_devices(signed_in, user, deliver):
    other_device = Client(HTTP_ACCEPT_LANGUAGE="en")
    other_device.post("/login/", {"login": user.username, "password": PASSWORD})
    assert other_device.get("/settings/").status_code == 200

    response = signed_in.post(
        "/settings/password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert response["Location"] == "/settings/"
    assert signed_in.get("/settings/").status_code == 200, "this device stays signed in"
    assert other_device.get("/settings/")["Location"].startswith("/login/")
    emails = deliver()[0]
    assert emails[-1].to == [user.profile.email]
    assert "password" in emails[-1].subject.lower()
    assert AuditEvent.objects.filter(user=user, kind=AuditEvent.Kind.PASSWORD_CHANGED).exists()
    fresh = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert (
        fresh.post("/login/", {"login": user.username, "password": NEW_PASSWORD}).status_code == 302
    )


def test_a_weak_new_password_is_a_form_error(signed_in, user):
    response = signed_in.post(
        "/settings/password/", {"new_password1": "password1", "new_password2": "password1"}
    )
    assert response.status_code == 200
    assert "too common" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_changes_are_rate_limited(signed_in, user):
    for number in range(5):
        password = f"{NEW_PASSWORD}-{number}"
        response = signed_in.post(
            "/settings/password/", {"new_password1": password, "new_password2": password}
        )
        assert response.status_code == 302
    response = signed_in.post(
        "/settings/password/",
        {"new_password1": "one-more-2028x", "new_password2": "one-more-2028x"},
    )
    assert "Too many attempts" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(f"{NEW_PASSWORD}-4")


def test_a_new_email_replaces_the_old_only_once_confirmed_and_the_old_is_told(
    signed_in, user, deliver
):
    signed_in.post("/settings/contact/email/", {"email": "jana.new@example.cz"})
    user.profile.refresh_from_db()
    assert user.profile.email == "jana@example.cz"

    pin = _pin(deliver()[0][-1].body, 8)
    signed_in.post("/account/confirm/email/", {"code": pin})

    user.profile.refresh_from_db()
    assert user.profile.email == "jana.new@example.cz"
    assert user.profile.email_confirmed
    warning = deliver()[0][-1]
    assert warning.to == ["jana@example.cz"]
    assert "jana.new@example.cz" in warning.body


def test_a_new_phone_is_confirmed_by_sms_and_the_user_is_told_by_email(signed_in, user, deliver):
    response = signed_in.post("/settings/contact/phone/", {"phone": "777 888 999"})
    assert response["Location"] == "/account/confirm/"

    texts = deliver()[1]
    assert texts[-1]["to"] == "+420777888999"
    signed_in.post("/account/confirm/phone/", {"code": _pin(texts[-1]["text"], 6)})

    user.profile.refresh_from_db()
    assert user.profile.phone == "+420777888999"
    assert deliver()[0][-1].to == ["jana@example.cz"]


def test_an_email_of_another_account_cannot_be_taken_nor_learnt(
    signed_in, user, make_user, deliver
):
    """The page answers as for any address; the owner is told, and no code can confirm it."""
    petr = make_user("petr", email="petr@example.cz")

    response = signed_in.post("/settings/contact/email/", {"email": "PETR@example.cz"})

    assert response["Location"] == "/account/confirm/", "the same answer as for a free address"
    emails, _ = deliver()
    assert [message.to for message in emails] == [["petr@example.cz"]]
    assert "tried to register" in emails[0].subject
    for guess in ("00000000", "12345678"):
        signed_in.post("/account/confirm/email/", {"code": guess})
    assert User.objects.get(pk=user.pk).profile.email == "jana@example.cz"
    assert AuditEvent.objects.filter(user=petr, kind="registration_email_taken").exists()


def test_the_flow_itself_refuses_without_a_fresh_proof(rf, user):
    """The sudo check lives in the flow too, so a future caller cannot forget it."""
    from django.contrib.sessions.backends.db import SessionStore

    from accounts import flows
    from accounts.reauth import ReauthenticationRequired

    request = rf.post("/")
    request.user = user
    request.session = SessionStore()
    with pytest.raises(ReauthenticationRequired):
        flows.change_password(request, NEW_PASSWORD)
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_an_abandoned_action_is_not_replayed_at_a_later_reauthentication(stale, deliver):
    stale.post("/settings/contact/email/", {"email": "typo@example.cz"})
    # The user walks away; much later the window is needed again for something else.
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=10), tick=False):
        stale.get("/settings/")  # keep the session alive (idle timeout is 30 min)
        response = stale.post("/account/reauthenticate/", {"password": PASSWORD})

    assert response["Location"] == "/settings/"
    assert not deliver()[0], "the old e-mail change must not go out"


def test_a_replayed_form_with_an_error_posts_back_to_its_own_page(stale):
    stale.post("/settings/contact/email/", {"email": "petr@@example.cz"})

    response = stale.post("/account/reauthenticate/", {"password": PASSWORD})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid email address." in page
    assert 'action="/settings/contact/email/"' in page


def test_a_post_with_undeclared_fields_is_not_parked(stale):
    stale.post("/settings/contact/email/", {"email": "new@example.cz", "code": "12345678"})
    assert "post" not in stale.session[PENDING_ACTION]


def test_a_get_resumes_with_its_query_string(stale):
    stale.get("/settings/password/?from=mail")
    response = stale.post("/account/reauthenticate/", {"password": PASSWORD})
    assert response["Location"] == "/settings/password/?from=mail"


def test_editing_the_identity_profile_needs_a_fresh_proof_and_is_resumed(stale, user):
    form = {"first_name": "Johana", "last_name": "Nováková", "country": "CZ"}

    response = stale.post("/settings/profile/", form)

    assert response["Location"] == "/account/reauthenticate/"
    assert User.objects.get(pk=user.pk).profile.first_name == "Jana", "nothing changed yet"
    resumed = stale.post("/account/reauthenticate/", {"password": PASSWORD})
    assert resumed.status_code == 302
    assert User.objects.get(pk=user.pk).profile.first_name == "Johana"
    event = AuditEvent.objects.get(user=user, kind=AuditEvent.Kind.PROFILE_UPDATED)
    assert event.actor == user


def test_the_profile_flow_itself_refuses_without_a_fresh_proof(rf, user):
    from django.contrib.sessions.backends.db import SessionStore

    from accounts import flows
    from accounts.reauth import ReauthenticationRequired

    request = rf.post("/")
    request.user = user
    request.session = SessionStore()
    with pytest.raises(ReauthenticationRequired):
        flows.update_profile(request, {"first_name": "Johana"})
    assert User.objects.get(pk=user.pk).profile.first_name == "Jana"


# --- the re-authentication page: what it is for, and a way out --------------------------------


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/settings/password/", "You are changing your password."),
        ("/settings/profile/", "You are changing your profile."),
        ("/settings/contact/email/", "You are changing your e-mail address."),
        ("/settings/contact/phone/", "You are changing your phone number."),
    ],
)
def test_the_page_says_which_change_it_is_for(stale, path, reason):
    assert stale.get(path)["Location"] == "/account/reauthenticate/"

    page = stale.get("/account/reauthenticate/").content.decode()

    assert f'<p class="lead" id="reauthentication-reason">{reason}</p>' in page


def test_without_a_parked_change_the_page_names_none(stale):
    page = stale.get("/account/reauthenticate/").content.decode()

    assert 'id="reauthentication-reason"' not in page


def test_cancel_goes_back_where_the_user_came_from_and_forgets_the_change(stale, user, deliver):
    came_from = "http://testserver/settings/#profile"
    stale.post("/settings/contact/email/", {"email": "jana.new@example.cz"}, HTTP_REFERER=came_from)
    page = stale.get("/account/reauthenticate/", HTTP_REFERER=came_from).content.decode()
    assert 'name="back" value="/settings/#profile"' in page
    wrong = stale.post(
        "/account/reauthenticate/", {"password": "wrong", "back": "/settings/#profile"}
    )
    assert 'name="back" value="/settings/#profile"' in wrong.content.decode(), "kept by the form"

    cancelled = stale.post(
        "/account/reauthenticate/", {"cancel": "1", "back": "/settings/#profile"}
    )

    assert cancelled["Location"] == "/settings/#profile"
    assert PENDING_ACTION not in stale.session
    resumed = stale.post("/account/reauthenticate/", {"password": PASSWORD})
    assert resumed["Location"] == "/settings/", "the cancelled change is not carried out later"
    assert not deliver()[0]


@pytest.mark.parametrize(
    "back",
    [
        "https://evil.example/settings/",
        "//evil.example/",
        "/\\evil.example/",
        "javascript:alert(1)",
        "http://[::1",
        "/account/reauthenticate/",
        "",
    ],
)
def test_cancel_never_leaves_the_site(stale, back):
    response = stale.post("/account/reauthenticate/", {"cancel": "1", "back": back})

    assert response["Location"] == "/settings/"


def test_a_referer_of_another_site_is_no_way_back(stale):
    stale.get("/settings/password/")

    page = stale.get(
        "/account/reauthenticate/", HTTP_REFERER="https://evil.example/settings/"
    ).content.decode()

    assert 'name="back" value="/settings/"' in page
