"""The simulator's admin opens for its own operators only, signed in on its own page: never for a
portal account (staff, superuser or citizen), nor for a clerk who is no operator. It writes its
own history, not Django's admin log (which names the portal's users), and operators manage the
simulator's people there, passwords included."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.test import Client

from govsim.models import AdminLogEntry, Outage, StaffMember
from govsim.services import SESSION_KEY
from govsim.signin import MAX_FAILURES
from govsim.tests.people import PASSWORD, make_clerk, make_operator, signed_in_as

pytestmark = pytest.mark.django_db

ADMIN = "/sim/admin/"
LOGIN = "/sim/admin/login/"
STAFF = "/sim/admin/govsim/staffmember/"


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    # The production hasher costs 100 MiB and ~130 ms per check; what is tested here is who may
    # sign in, not the hash's strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def operator(db):
    return make_operator("spravce")


@pytest.fixture
def operator_client(client, operator):
    return signed_in_as(client, operator)


def sign_in(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def error_of(response) -> str:
    assert response.status_code == 200
    return " ".join(response.context["form"].non_field_errors())


def portal_account(kind: str = "superuser"):
    user = get_user_model().objects.create_user("helpdesk", PASSWORD, email="helpdesk@example.cz")
    get_user_model().objects.filter(pk=user.pk).update(
        is_staff=kind != "citizen", is_superuser=kind == "superuser"
    )
    user.refresh_from_db()
    return user


# --- who may open it --------------------------------------------------------------------------


def test_an_operator_signs_in_on_the_simulators_own_page(client, operator):
    asked = client.get(ADMIN)
    page = client.get(asked["Location"])
    response = sign_in(client, "spravce", next=ADMIN)

    assert asked.status_code == 302 and asked["Location"] == f"{LOGIN}?next={ADMIN}"
    assert page.status_code == 200 and 'name="password"' in page.content.decode()
    assert response.status_code == 302 and response["Location"] == ADMIN
    index = client.get(ADMIN)
    assert index.status_code == 200
    assert "Sára Správcová" in index.content.decode()  # the header greets the operator
    operator.refresh_from_db()
    assert operator.last_login is not None


def test_the_operator_is_not_signed_in_to_the_portal(client, operator):
    sign_in(client, "spravce")

    assert "_auth_user_id" not in client.session
    assert client.get("/settings/")["Location"].startswith("/login/")
    assert client.get("/admin/").status_code == 302  # nor to the helpdesk's admin


def test_an_operator_changes_things(operator_client, operator):
    Outage.objects.create(system="nia", down=False)

    response = operator_client.post(
        f"{ADMIN}govsim/outage/nia/change/", {"system": "nia", "down": "on", "note": "test"}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Outage.objects.get(system="nia").down


@pytest.mark.parametrize("kind", ["citizen", "staff", "superuser"])
@pytest.mark.parametrize("path", ["", "govsim/outage/", "sim_rob/citizen/", "govsim/staffmember/"])
def test_a_portal_account_does_not_open_it(client, kind, path):
    client.force_login(portal_account(kind))

    response = client.get(ADMIN + path)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


@pytest.mark.parametrize("kind", ["staff", "superuser"])
def test_a_portal_accounts_password_does_not_sign_in(client, kind, operator):
    portal_account(kind)

    portal = error_of(sign_in(client, "helpdesk"))
    wrong = error_of(sign_in(client, "spravce", "not-the-password"))

    assert portal == wrong
    assert "Wrong username or password" in portal
    assert SESSION_KEY not in client.session and "_auth_user_id" not in client.session
    assert client.get(ADMIN).status_code == 302


def test_a_clerk_who_is_no_operator_does_not_open_it(client):
    clerk = make_clerk("urednik")

    refused = sign_in(client, "urednik")
    signed_in_as(client, clerk)
    index = client.get(ADMIN)
    login_page = client.get(LOGIN)

    assert "Wrong username or password" in error_of(refused)
    assert index.status_code == 302 and index["Location"].startswith(LOGIN)
    assert "You are authenticated as urednik" in login_page.content.decode()


def test_after_too_many_failures_even_the_right_password_is_refused(client, operator):
    for _ in range(MAX_FAILURES):
        sign_in(client, "spravce", "guess")

    assert "Wrong username or password" in error_of(sign_in(client, "spravce"))
    assert client.get(ADMIN).status_code == 302


def test_a_sign_in_never_sends_the_operator_to_another_site(client, operator):
    response = sign_in(client, "spravce", next="https://evil.example/")

    assert response["Location"] == ADMIN


def test_signing_out_keeps_the_portals_sign_in(operator_client):
    citizen = portal_account("citizen")
    operator_client.force_login(citizen)
    signed_in_as(operator_client, StaffMember.objects.get(username="spravce"))

    page = operator_client.post(f"{ADMIN}logout/")

    assert page.status_code == 200
    assert operator_client.get(ADMIN).status_code == 302
    assert operator_client.session["_auth_user_id"] == str(citizen.pk)


def test_a_new_password_ends_the_operators_other_sessions_but_not_this_one(operator):
    here, elsewhere = Client(HTTP_ACCEPT_LANGUAGE="en"), Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(here, "spravce")
    sign_in(elsewhere, "spravce")
    form = {
        "username": "spravce",
        "full_name": operator.full_name,
        "is_operator": "on",
        "is_active": "on",
        "office": "",
        "new_password1": "nove-heslo-2026-x",
        "new_password2": "nove-heslo-2026-x",
    }

    response = here.post(f"{STAFF}{operator.pk}/change/", form)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert here.get(ADMIN).status_code == 200
    assert elsewhere.get(ADMIN).status_code == 302


def test_the_change_password_link_leads_to_the_operators_own_page(operator_client, operator):
    response = operator_client.get(f"{ADMIN}password_change/")

    assert response.status_code == 302
    assert response["Location"] == f"{STAFF}{operator.pk}/change/"


# --- the simulator's people -------------------------------------------------------------------


def add_form(**fields) -> dict:
    return {
        "username": "novak",
        "full_name": "Jan Novák",
        "is_clerk": "on",
        "office": "Czech POINT – Brno",
        "is_active": "on",
        "new_password1": "heslo-urednika-2026",
        "new_password2": "heslo-urednika-2026",
    } | fields


def test_an_operator_adds_a_clerk_who_then_signs_in_at_the_desk(operator_client):
    response = operator_client.post(f"{STAFF}add/", add_form())

    assert response.status_code == 302, response.content.decode()[:3000]
    clerk = StaffMember.objects.get(username="novak")
    assert clerk.is_clerk and not clerk.is_operator
    assert "heslo-urednika-2026" not in clerk.password
    desk = Client(HTTP_ACCEPT_LANGUAGE="en")
    signed_in = desk.post(
        "/sim/czechpoint/login/", {"username": "novak", "password": "heslo-urednika-2026"}
    )
    assert signed_in.status_code == 302


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"new_password2": "jine-heslo-2026"}, "new_password2", "The two passwords differ"),
        ({"new_password1": "kratke", "new_password2": "kratke"}, "new_password1", "too short"),
        ({"new_password1": "", "new_password2": ""}, "new_password1", "needs a password"),
        ({"office": ""}, "office", "works at an office"),
        ({"username": "Jan Novák"}, "username", "lowercase letters"),
        ({"username": "SPRAVCE"}, "username", "taken"),
    ],
)
def test_a_bad_person_is_a_form_error(operator_client, fields, field, message):
    response = operator_client.post(f"{STAFF}add/", add_form(**fields))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors.get(field, []) + errors.get("__all__", []))
    assert not StaffMember.objects.filter(full_name="Jan Novák").exists()


def test_a_person_without_a_role_is_a_form_error(operator_client):
    data = add_form()
    del data["is_clerk"]

    response = operator_client.post(f"{STAFF}add/", data)

    assert response.status_code == 200
    assert "at least one role" in response.content.decode()


def test_the_password_hash_is_not_shown(operator_client, operator):
    page = operator_client.get(f"{STAFF}{operator.pk}/change/").content.decode()

    assert operator.password not in page


# --- history ----------------------------------------------------------------------------------


def test_the_admin_keeps_its_own_history_and_writes_no_django_log_entry(operator_client, operator):
    operator_client.post(f"{STAFF}add/", add_form())
    clerk = StaffMember.objects.get(username="novak")
    operator_client.post(
        f"{STAFF}{clerk.pk}/change/",
        add_form(full_name="Jan Novák ml.", new_password1="", new_password2=""),
    )

    history = operator_client.get(f"{STAFF}{clerk.pk}/history/")

    assert not LogEntry.objects.exists()
    entries = list(AdminLogEntry.objects.order_by("pk"))
    assert [(entry.staff_member, entry.action_flag) for entry in entries] == [
        (operator, 1),
        (operator, 2),
    ]
    text = history.content.decode()
    assert history.status_code == 200
    assert "spravce (Sára Správcová)" in text and "Changed Full name" in text


def test_the_index_shows_nothing_of_the_portals_admin_log(client):
    user = portal_account("superuser")
    # An operator with the same number as the portal's superuser: Django's "Recent actions"
    # would list the superuser's changes to them.
    same_number = StaffMember.objects.filter(pk=user.pk).first() or StaffMember.objects.create(
        id=user.pk, username="nahled", full_name="Náhled", is_operator=True
    )
    StaffMember.objects.filter(pk=same_number.pk).update(is_operator=True, is_active=True)
    LogEntry.objects.create(
        user_id=user.pk, action_flag=2, object_repr="Secret portal change", change_message=""
    )
    signed_in_as(client, StaffMember.objects.get(pk=user.pk))

    page = client.get(ADMIN).content.decode()

    assert "Secret portal change" not in page
    assert "Recent actions" not in page


def test_the_autocomplete_answers_operators_only(client, operator):
    from govsim.isds.models import Person

    Person.objects.create(username="jana", first_names="Jana", last_name="Nováková")
    query = {
        "app_label": "sim_isds",
        "model_name": "boxaccess",
        "field_name": "person",
        "term": "ja",
    }
    client.force_login(portal_account("superuser"))

    portal = client.get(f"{ADMIN}autocomplete/", query)
    signed_in_as(client, operator)
    answered = client.get(f"{ADMIN}autocomplete/", query)

    assert portal.status_code == 302
    assert answered.status_code == 200
    assert [result["text"] for result in answered.json()["results"]] == ["Jana Nováková (jana)"]
