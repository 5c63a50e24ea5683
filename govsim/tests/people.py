"""The simulator's own people for the tests: clerks, operators, and a browser signed in as one.

Plain functions (no fixtures), shared by the tests of every simulated system and of the desk.
"""

from django.contrib.auth.hashers import make_password
from django.test import Client

from govsim import services
from govsim.models import StaffMember

PASSWORD = "test-heslo-2026-x"
OFFICE = "Czech POINT – test"


def make_staff_member(
    username: str,
    *,
    full_name: str = "Marie Úřednická",
    clerk: bool = False,
    operator: bool = False,
    office: str = OFFICE,
    password: str = PASSWORD,
    active: bool = True,
) -> StaffMember:
    return StaffMember.objects.create(
        username=username,
        full_name=full_name,
        password=make_password(password),
        is_clerk=clerk,
        office=office if clerk else "",
        is_operator=operator,
        is_active=active,
    )


def make_clerk(username: str = "urednice", **fields) -> StaffMember:
    return make_staff_member(username, clerk=True, **fields)


def make_operator(username: str = "operator", **fields) -> StaffMember:
    fields.setdefault("full_name", "Sára Správcová")
    return make_staff_member(username, operator=True, **fields)


def signed_in_as(client: Client, member: StaffMember) -> Client:
    """The client signed in as the simulator's person, as its sign-in pages leave the session
    (like Django's `force_login`: no password checked)."""
    session = client.session
    session[services.SESSION_KEY] = {"id": member.pk, "hash": member.session_hash()}
    session.save()
    return client
