"""The profile lock.

When a profile is locked, first name, last name, birth date and permanent address (street, city,
postal code, country) cannot change through any path — the settings form, the admin, the
`update_profile` command or the shell (ORM and raw SQL) — except through `apply_register_data`,
the one service that applies data from the base register. The organisation is no register field:
the citizen keeps editing it (issue 10; this departs from DESIGN.md §4, which listed it).
"""

import re
from datetime import date
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.forms import CheckboxInput
from django.utils import timezone

from accounts.models import (
    LOCKED_FIELDS,
    PROFILE_FIELDS,
    REGISTER_ONLY_FIELDS,
    AuditEvent,
    Profile,
    ProfileLocked,
    User,
)
from accounts.services.profile import (
    apply_register_data,
    lock_profile,
    unlock_profile,
    update_profile,
)
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

# What the test profile holds before each test (besides the names make_user gives it).
ADDRESS = {
    "birth_date": date(1985, 3, 14),
    "street": "Na Příkopě 12",
    "city": "Praha",
    "postal_code": "110 00",
    "country": "CZ",
    "organisation": "Nadace Dobrý den",
}

# A different, valid value for every locked field, as a form or a command would send it.
NEW_VALUES = {
    "first_name": "Petra",
    "last_name": "Svobodová",
    "birth_date": "1990-05-01",
    "street": "Masarykova 5",
    "city": "Brno",
    "postal_code": "602 00",
    "country": "SK",
    "organisation": "Jiná firma s.r.o.",
}
# The same values as the ORM holds them, and the one only the register sets.
NEW_PYTHON_VALUES = {**NEW_VALUES, "birth_date": date(1990, 5, 1), "address_point_code": 41}
# The locked fields a person can type (the address point code is the register's alone).
TYPED_LOCKED_FIELDS = [name for name in LOCKED_FIELDS if name not in REGISTER_ONLY_FIELDS]


def _stored(user) -> dict:
    return Profile.objects.filter(pk=user.pk).values(*LOCKED_FIELDS, "locked_at").get()


def _form_data(profile: Profile, **changes) -> dict:
    """The settings form as the edit page would submit it, with `changes` typed in."""
    data = {name: getattr(profile, name) or "" for name in PROFILE_FIELDS}
    data["birth_date"] = profile.birth_date.isoformat() if profile.birth_date else ""
    return {**data, **changes}


@pytest.fixture
def jana(make_user):
    return make_user("jana", **ADDRESS)


@pytest.fixture
def locked(jana):
    lock_profile(jana, actor=None, reason="test")
    jana.refresh_from_db()
    return jana


@pytest.fixture
def jana_client(client, jana):
    response = client.post("/login/", {"login": "jana", "password": PASSWORD})
    assert response.status_code == 302
    return client


# --- the settings profile form ------------------------------------------------------------------


def test_form_refuses_new_names_on_a_locked_profile(locked, jana_client):
    before = _stored(locked)

    response = jana_client.post(
        "/settings/profile/",
        _form_data(locked.profile, first_name="Petra", last_name="Svobodová"),
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"first_name", "last_name"}
    assert "Locked" in errors["first_name"][0]
    assert "Locked: this comes from the base register" in response.content.decode()
    assert _stored(locked) == before
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.PROFILE_UPDATED).exists()


@pytest.mark.parametrize("field", TYPED_LOCKED_FIELDS)
def test_form_refuses_each_locked_field(locked, jana_client, field):
    before = _stored(locked)

    response = jana_client.post(
        "/settings/profile/", _form_data(locked.profile, **{field: NEW_VALUES[field]})
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert _stored(locked) == before


def test_form_on_a_locked_profile_shows_the_stored_values_after_a_refusal(locked, jana_client):
    response = jana_client.post(
        "/settings/profile/", _form_data(locked.profile, first_name="Petra")
    )

    assert response.context["profile"].first_name == "Jana"
    assert response.context["profile"].is_locked


def test_form_saves_unchanged_values_of_an_unlocked_profile(jana, jana_client):
    response = jana_client.post("/settings/profile/", _form_data(jana.profile))

    assert response.status_code == 302
    assert response["Location"] == "/settings/"


def test_form_saves_unchanged_values_of_a_locked_profile(locked, jana_client):
    before = _stored(locked)

    response = jana_client.post("/settings/profile/", _form_data(locked.profile))

    assert response.status_code == 302
    assert _stored(locked) == before


def test_form_changes_every_field_of_an_unlocked_profile(jana, jana_client):
    response = jana_client.post("/settings/profile/", _form_data(jana.profile, **NEW_VALUES))

    assert response.status_code == 302
    stored = Profile.objects.filter(pk=jana.pk).values(*PROFILE_FIELDS).get()
    assert stored == {name: NEW_PYTHON_VALUES[name] for name in PROFILE_FIELDS}
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PROFILE_UPDATED)
    assert sorted(event.details["fields"]) == sorted(PROFILE_FIELDS)


def test_edit_page_of_a_locked_profile_shows_the_lock_notice(locked, jana_client):
    page = jana_client.get("/settings/profile/").content.decode()

    assert "Your identity data are locked" in page


def test_edit_page_of_an_unlocked_profile_has_no_lock_notice(jana, jana_client):
    page = jana_client.get("/settings/profile/").content.decode()

    assert "Your identity data are locked" not in page


def _input(page: str, name: str) -> str:
    """The HTML tag of the form control named `name`."""
    return re.search(rf'<(?:input|select)[^>]*name="{name}"[^>]*>', page).group(0)


def test_a_locked_profile_shows_the_register_fields_read_only_and_the_organisation_editable(
    locked, jana_client
):
    settings_page = jana_client.get("/settings/").content.decode()
    assert 'href="/settings/profile/"' in settings_page, "the settings page leads to the form"

    page = jana_client.get("/settings/profile/").content.decode()

    for name in TYPED_LOCKED_FIELDS:
        assert " disabled" in _input(page, name), f"{name} is shown read-only"
    assert " disabled" not in _input(page, "organisation")
    assert page.count("From the base register of inhabitants") == len(TYPED_LOCKED_FIELDS)
    assert 'value="Jana"' in _input(page, "first_name"), "the stored value is shown"


def test_a_locked_profile_saves_a_new_organisation_as_the_browser_sends_it(locked, jana_client):
    before = _stored(locked)

    # A browser sends no disabled field: the organisation (and the CSRF token) only.
    response = jana_client.post("/settings/profile/", {"organisation": "CZ.NIC, z. s. p. o."})

    assert (response.status_code, response["Location"]) == (302, "/settings/")
    assert Profile.objects.get(pk=locked.pk).organisation == "CZ.NIC, z. s. p. o."
    assert _stored(locked) == before
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PROFILE_UPDATED)
    assert event.details["fields"] == ["organisation"]


def test_a_stale_form_with_unchanged_register_fields_saves_the_organisation(locked, jana_client):
    """A page opened before the lock posts every field; unchanged ones are no change."""
    response = jana_client.post(
        "/settings/profile/", _form_data(locked.profile, organisation="Jiná firma s.r.o.")
    )

    assert response.status_code == 302
    assert Profile.objects.get(pk=locked.pk).organisation == "Jiná firma s.r.o."


@pytest.mark.parametrize("value", ["abc", "1985-02-30", "\x00"])
def test_garbage_in_a_locked_field_is_refused_as_a_change(locked, jana_client, value):
    response = jana_client.post("/settings/profile/", _form_data(locked.profile, birth_date=value))

    assert response.status_code == 200
    assert "Locked" in " ".join(response.context["form"].errors["birth_date"])


# --- the admin ----------------------------------------------------------------------------------


@pytest.fixture
def admin_client(make_user, sign_in_verified):
    """The helpdesk operator (least privilege) signed in with a second factor."""
    from django.test import Client

    from helpdesk.roles import ensure_helpdesk_group

    staff = make_user("helpdesk", email="helpdesk@example.cz", is_staff=True)
    staff.groups.add(ensure_helpdesk_group())
    return sign_in_verified(Client(HTTP_ACCEPT_LANGUAGE="en"), staff)


def _bound_form_data(form) -> dict:
    """What the browser submits for `form` as rendered (checkboxes only when ticked)."""
    data = {}
    for bound in form:
        if bound.field.disabled:
            continue
        value = bound.value()
        if isinstance(bound.field.widget, CheckboxInput):
            if value:
                data[bound.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [str(item) for item in value]
        elif value is None:
            data[bound.html_name] = ""
        else:
            data[bound.html_name] = bound.field.widget.format_value(value)
    return data


def _admin_change_data(admin_client, user) -> tuple[str, dict, set]:
    """The change page's URL, its form data, and the profile fields the inline lets one edit —
    once the operator verified the caller (until then the profile is not shown at all)."""
    from datetime import timedelta

    from django.utils import timezone

    from helpdesk.models import VerifiedCall

    VerifiedCall.objects.create(
        operator=User.objects.get(username="helpdesk"),
        account=user,
        until=timezone.now() + timedelta(minutes=15),
    )
    url = f"/admin/accounts/user/{user.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    data = _bound_form_data(page.context["adminform"].form)
    (inline,) = page.context["inline_admin_formsets"]
    formset = inline.formset
    data.update(_bound_form_data(formset.management_form))
    editable = set()
    for form in formset.forms:
        data.update(_bound_form_data(form))
        editable |= set(form.fields)
    return url, data, editable


def test_admin_shows_locked_fields_read_only(locked, admin_client):
    _url, _data, editable = _admin_change_data(admin_client, locked)

    assert not editable & set(LOCKED_FIELDS)
    assert not editable & {"email", "phone"}, "contacts change only with the user's code"


def test_admin_cannot_change_locked_fields(locked, admin_client):
    before = _stored(locked)
    url, data, _editable = _admin_change_data(admin_client, locked)
    data.update({f"profile-0-{name}": value for name, value in NEW_VALUES.items()})

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context.get("errors")
    assert _stored(locked) == before


def test_admin_changes_the_organisation_of_a_locked_profile(locked, admin_client):
    url, data, editable = _admin_change_data(admin_client, locked)
    assert "organisation" in editable
    data["profile-0-organisation"] = "CZ.NIC"

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context.get("errors")
    assert Profile.objects.get(pk=locked.pk).organisation == "CZ.NIC"


def test_admin_changes_the_first_name_of_an_unlocked_profile(jana, admin_client):
    url, data, editable = _admin_change_data(admin_client, jana)
    assert "first_name" in editable
    data["profile-0-first_name"] = "Petra"

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context.get("errors")
    assert _stored(jana)["first_name"] == "Petra"
    event = AuditEvent.objects.get(user=jana, kind=AuditEvent.Kind.PROFILE_UPDATED)
    assert event.actor.username == "helpdesk"
    assert event.details["fields"] == ["first_name"]


def test_admin_cannot_change_contacts_without_the_users_code(locked, admin_client):
    url, data, _editable = _admin_change_data(admin_client, locked)
    data["profile-0-phone"] = "+420777000111"
    data["profile-0-email"] = "attacker@example.cz"

    response = admin_client.post(url, data)

    assert response.status_code == 302
    profile = Profile.objects.get(pk=locked.pk)
    assert (profile.phone, profile.email) == ("+420601123456", "jana@example.cz")


# --- the management command ---------------------------------------------------------------------


@pytest.mark.parametrize("field", TYPED_LOCKED_FIELDS)
def test_command_refuses_a_locked_field_with_returncode_2(locked, field):
    before = _stored(locked)

    with pytest.raises(CommandError) as refused:
        call_command("update_profile", "jana", f"{field}={NEW_VALUES[field]}", stdout=StringIO())

    assert refused.value.returncode == 2
    assert field in str(refused.value)
    assert "Locked" in str(refused.value)
    assert _stored(locked) == before


def test_command_changes_an_unlocked_profile(jana):
    out = StringIO()

    call_command("update_profile", "JANA", "first_name=Petra", "city=Brno", stdout=out)

    assert "Changed: first_name, city." in out.getvalue()
    stored = _stored(jana)
    assert (stored["first_name"], stored["city"]) == ("Petra", "Brno")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PROFILE_UPDATED, user=jana)
    assert event.details["fields"] == ["first_name", "city"]


def test_command_cannot_touch_the_lock_itself(locked):
    with pytest.raises(CommandError) as refused:
        call_command("update_profile", "jana", "locked_at=", stdout=StringIO())

    assert refused.value.returncode == 2
    assert _stored(locked)["locked_at"] is not None


# --- the shell: model and queryset --------------------------------------------------------------


@pytest.mark.parametrize("field", LOCKED_FIELDS)
def test_save_of_a_changed_locked_field_raises_profile_locked(locked, field):
    before = _stored(locked)
    profile = Profile.objects.get(pk=locked.pk)
    setattr(profile, field, NEW_PYTHON_VALUES[field])

    with pytest.raises(ProfileLocked) as refused:
        profile.save()

    assert refused.value.fields == [field]
    assert _stored(locked) == before


def test_queryset_update_of_a_locked_field_raises(locked):
    with pytest.raises(ProfileLocked):
        Profile.objects.filter(pk=locked.pk).update(first_name="Petra")

    assert _stored(locked)["first_name"] == "Jana"


def test_queryset_update_over_several_profiles_refuses_if_one_is_locked(locked, make_user):
    other = make_user("karel", first_name="Karel")

    with pytest.raises(ProfileLocked):
        Profile.objects.all().update(city="Brno")

    assert _stored(locked)["city"] == "Praha"
    assert _stored(other)["city"] == ""


def test_bulk_update_of_a_locked_field_raises(locked):
    profile = Profile.objects.get(pk=locked.pk)
    profile.city = "Brno"

    # bulk_update runs in atomic(savepoint=False): give it a savepoint of its own to roll back.
    with pytest.raises(ProfileLocked), transaction.atomic():
        Profile.objects.bulk_update([profile], ["city"])

    assert _stored(locked)["city"] == "Praha"


def test_save_with_update_fields_of_a_contact_field_still_works(locked):
    profile = Profile.objects.get(pk=locked.pk)
    profile.phone = "+420777000111"

    profile.save(update_fields=["phone"])

    assert Profile.objects.get(pk=locked.pk).phone == "+420777000111"


def test_contact_fields_are_not_locked(locked):
    profile = Profile.objects.get(pk=locked.pk)
    profile.email = "jana.nova@example.cz"
    profile.save()
    Profile.objects.filter(pk=locked.pk).update(phone="+420777000111")

    profile = Profile.objects.get(pk=locked.pk)
    assert (profile.email, profile.phone) == ("jana.nova@example.cz", "+420777000111")
    assert profile.is_locked


def test_orm_changes_an_unlocked_profile(jana):
    profile = Profile.objects.get(pk=jana.pk)
    profile.first_name = "Petra"
    profile.save()
    Profile.objects.filter(pk=jana.pk).update(city="Brno")

    stored = _stored(jana)
    assert (stored["first_name"], stored["city"]) == ("Petra", "Brno")


def test_an_upsert_through_bulk_create_is_refused_by_the_database(locked):
    intruder = Profile(user_id=locked.pk, email=locked.profile.email, first_name="Petra")

    with pytest.raises(IntegrityError), transaction.atomic():
        Profile.objects.bulk_create(
            [intruder],
            update_conflicts=True,
            unique_fields=["user"],
            update_fields=["first_name"],
        )

    assert _stored(locked)["first_name"] == "Jana"


def test_update_profile_service_refuses_a_locked_field(locked):
    with pytest.raises(ProfileLocked) as refused:
        update_profile(locked, {"first_name": "Petra", "city": "Praha"}, actor=locked)

    assert refused.value.fields == ["first_name"]
    assert _stored(locked)["first_name"] == "Jana"
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.PROFILE_UPDATED).exists()


def test_the_database_refuses_writes_that_skip_the_python_guards(locked):
    profile = Profile.objects.get(pk=locked.pk)
    profile.first_name = "Petra"

    with pytest.raises(IntegrityError), transaction.atomic():
        profile.save_base()  # skips Profile.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        # The base manager's queryset is a plain QuerySet, without ProfileQuerySet.update().
        Profile._base_manager.filter(pk=locked.pk).update(city="Brno")

    stored = _stored(locked)
    assert (stored["first_name"], stored["city"]) == ("Jana", "Praha")


# --- the shell: raw SQL on PostgreSQL -----------------------------------------------------------


def _raw_update(sql: str, *params) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    ("column", "value"),
    [("first_name", "Petra"), ("city", "Brno"), ("birth_date", date(1990, 5, 1))],
)
def test_raw_sql_update_of_a_locked_field_is_refused(locked, column, value):
    before = _stored(locked)

    with pytest.raises(IntegrityError, match=r"profile \d+ is locked: identity fields"):
        _raw_update(
            f"UPDATE accounts_profile SET {column} = %s WHERE user_id = %s",  # noqa: S608
            value,
            locked.pk,
        )

    assert _stored(locked) == before


def test_raw_sql_cannot_clear_the_lock(locked):
    with pytest.raises(IntegrityError, match="locked or unlocked only by the profile services"):
        _raw_update("UPDATE accounts_profile SET locked_at = NULL WHERE user_id = %s", locked.pk)

    assert _stored(locked)["locked_at"] is not None


def test_raw_sql_cannot_set_the_lock(jana):
    with pytest.raises(IntegrityError, match="locked or unlocked only by the profile services"):
        _raw_update("UPDATE accounts_profile SET locked_at = now() WHERE user_id = %s", jana.pk)

    assert _stored(jana)["locked_at"] is None


def test_raw_sql_may_change_the_phone_of_a_locked_profile(locked):
    _raw_update(
        "UPDATE accounts_profile SET phone = %s WHERE user_id = %s", "+420777000", locked.pk
    )

    assert Profile.objects.get(pk=locked.pk).phone == "+420777000"


def test_raw_sql_may_change_the_organisation_of_a_locked_profile(locked):
    _raw_update(
        "UPDATE accounts_profile SET organisation = %s WHERE user_id = %s", "CZ.NIC", locked.pk
    )

    assert Profile.objects.get(pk=locked.pk).organisation == "CZ.NIC"


def test_raw_sql_may_change_an_unlocked_profile(jana):
    _raw_update("UPDATE accounts_profile SET first_name = %s WHERE user_id = %s", "Petra", jana.pk)

    assert _stored(jana)["first_name"] == "Petra"


# --- the register-data service ------------------------------------------------------------------


def test_register_data_changes_a_locked_profile_and_is_audited(locked):
    changed = apply_register_data(
        locked, {"first_name": "Jiří", "city": "Brno"}, actor=None, source="test"
    )

    assert changed == ["first_name", "city"]
    stored = _stored(locked)
    assert (stored["first_name"], stored["city"]) == ("Jiří", "Brno")
    assert stored["locked_at"] is not None
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.REGISTER_DATA_APPLIED, user=locked)
    assert event.details == {"fields": ["first_name", "city"], "source": "test"}


def test_the_lock_closes_again_after_register_data(locked):
    apply_register_data(locked, {"first_name": "Jiří"}, actor=None, source="test")
    profile = Profile.objects.get(pk=locked.pk)
    profile.first_name = "Petra"

    with pytest.raises(ProfileLocked):
        profile.save()
    with pytest.raises(IntegrityError):
        _raw_update(
            "UPDATE accounts_profile SET first_name = 'Petra' WHERE user_id = %s", locked.pk
        )
    assert _stored(locked)["first_name"] == "Jiří"


def test_unlocking_lets_the_form_edit_again(locked, jana_client):
    unlock_profile(locked, actor=None, reason="test")

    response = jana_client.post(
        "/settings/profile/", _form_data(Profile.objects.get(pk=locked.pk), first_name="Petra")
    )

    assert response.status_code == 302
    assert _stored(locked)["first_name"] == "Petra"
    assert AuditEvent.objects.filter(user=locked, kind=AuditEvent.Kind.PROFILE_UNLOCKED).exists()
    assert AuditEvent.objects.filter(user=locked, kind=AuditEvent.Kind.PROFILE_UPDATED).exists()


# --- the lock itself ----------------------------------------------------------------------------


def test_locked_at_cannot_be_cleared_through_save(locked):
    profile = Profile.objects.get(pk=locked.pk)
    profile.locked_at = None

    with pytest.raises(ProfileLocked) as refused:
        profile.save()
    with pytest.raises(ProfileLocked):
        profile.save(update_fields=["locked_at"])

    assert refused.value.fields == ["locked_at"]
    assert _stored(locked)["locked_at"] is not None


def test_locked_at_cannot_be_set_through_save(jana):
    profile = Profile.objects.get(pk=jana.pk)
    profile.locked_at = timezone.now()

    with pytest.raises(ProfileLocked):
        profile.save()

    assert _stored(jana)["locked_at"] is None


def test_locked_at_cannot_be_set_or_cleared_through_update(jana, make_user):
    other = make_user("karel")
    lock_profile(other, actor=None, reason="test")

    with pytest.raises(ProfileLocked):
        Profile.objects.filter(pk=jana.pk).update(locked_at=timezone.now())
    with pytest.raises(ProfileLocked):
        Profile.objects.filter(pk=other.pk).update(locked_at=None)

    assert _stored(jana)["locked_at"] is None
    assert _stored(other)["locked_at"] is not None


def test_a_profile_cannot_be_created_locked():
    karel = User.objects.create_user("karel", PASSWORD, email="karel@example.cz")
    Profile.objects.filter(pk=karel.pk).delete()

    with pytest.raises(ProfileLocked):
        Profile.objects.create(user=karel, email="karel@example.cz", locked_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Profile.objects.bulk_create(
            [Profile(user=karel, email="karel@example.cz", locked_at=timezone.now())]
        )

    assert not Profile.objects.filter(pk=karel.pk).exists()


def test_lock_and_unlock_are_audited(jana):
    lock_profile(jana, actor=None, reason="nia-link")
    lock_profile(jana, actor=None, reason="again")  # already locked: nothing to record
    unlock_profile(jana, actor=None, reason="nia-unlink")

    events = AuditEvent.objects.filter(user=jana, kind__startswith="profile_").order_by("id")
    assert [(e.kind, e.details["reason"]) for e in events] == [
        ("profile_locked", "nia-link"),
        ("profile_unlocked", "nia-unlink"),
    ]


def test_a_locked_account_cannot_be_deleted_around_the_lock(locked):
    """Deleting and recreating the profile would otherwise bring back editable identity fields."""
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=locked.pk).delete()
    assert Profile.objects.filter(pk=locked.pk, locked_at__isnull=False).exists()

    unlock_profile(locked, actor=None, reason="test")
    User.objects.filter(pk=locked.pk).delete()
    assert not Profile.objects.filter(pk=locked.pk).exists()


def test_changes_without_a_person_are_audited_as_the_system(jana):
    apply_register_data(jana, {"city": "Brno"}, actor=None, source="register sync")
    call_command("update_profile", jana.username, "organisation=CZ.NIC", stdout=StringIO())

    events = AuditEvent.objects.filter(user=jana).exclude(kind=AuditEvent.Kind.LOGIN)
    assert events.count() == 2
    assert all(event.actor is None for event in events), "nobody in person did these"


# --- the Organisation field, locked empty by a link to NIA ----------------------------------------


def test_a_link_s_lock_keeps_the_organisation_too_and_unlocking_frees_both(jana, jana_client):
    Profile.objects.filter(pk=jana.pk).update(organisation="")
    lock_profile(jana, actor=None, reason="nia_link", organisation=True)
    profile = Profile.objects.get(pk=jana.pk)

    page = jana_client.get("/settings/profile/").content.decode()
    response = jana_client.post(
        "/settings/profile/", _form_data(profile, organisation="Firma s.r.o.")
    )

    assert "The Organisation field stays empty" in page
    assert list(response.context["form"].errors) == ["organisation"]
    assert Profile.objects.get(pk=jana.pk).organisation == ""
    with pytest.raises(ProfileLocked):
        Profile.objects.filter(pk=jana.pk).update(organisation="Firma s.r.o.")
    profile.organisation = "Firma s.r.o."
    with pytest.raises(ValidationError):
        profile.full_clean()

    unlock_profile(jana, actor=None, reason="nia_link_ended")
    saved = jana_client.post("/settings/profile/", _form_data(profile, organisation="Firma"))
    assert saved.status_code == 302
    assert Profile.objects.get(pk=jana.pk).organisation == "Firma"


def test_an_already_locked_profile_gets_its_organisation_locked_by_a_link(locked):
    Profile.objects.filter(pk=locked.pk).update(organisation="")

    lock_profile(locked, actor=None, reason="nia_link", organisation=True)

    assert Profile.objects.get(pk=locked.pk).organisation_locked is True


def test_the_citizen_s_own_address_change_clears_the_register_s_address_point(jana):
    Profile.objects.filter(pk=jana.pk).update(address_point_code=21776075)

    update_profile(jana, {"first_name": "Jana"}, actor=jana)
    kept = Profile.objects.get(pk=jana.pk).address_point_code
    changed = update_profile(jana, {"street": "Masarykova 5"}, actor=jana)

    assert kept == 21776075, "a change of something else keeps it"
    assert changed == ["street", "address_point_code"]
    assert Profile.objects.get(pk=jana.pk).address_point_code is None
