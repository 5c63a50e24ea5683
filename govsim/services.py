"""The simulator's own people at work: signing a staff member (a Czech POINT clerk, an operator of
the simulator) in and out, and who is signed in.

The mechanism is `govsim.signin`, shared with the data box system: a session key of its own, never
`django.contrib.auth`, so that signing in at the Czech POINT desk or the simulator's admin does not
sign the browser into the portal, and signing into the portal opens neither.
"""

from django.http import HttpRequest

from .models import StaffMember
from .signin import SignIn

SESSION_KEY = "govsim_staff"
STAFF = SignIn(StaffMember, SESSION_KEY)


def authenticate_clerk(username: str, password: str) -> StaffMember | None:
    """The active Czech POINT clerk with this username and password, or None (one answer for
    every failure, a person who is no clerk included)."""
    return STAFF.authenticate(username, password, is_clerk=True)


def authenticate_operator(username: str, password: str) -> StaffMember | None:
    """The active simulator operator with this username and password, or None."""
    return STAFF.authenticate(username, password, is_operator=True)


def sign_in(request: HttpRequest, member: StaffMember) -> None:
    """Remember the staff member in this browser session (the portal's sign-in stays as it is)."""
    STAFF.sign_in(request, member)


def sign_out(request: HttpRequest) -> None:
    """Forget the staff member of this session (the portal's sign-in stays as it is)."""
    STAFF.sign_out(request)


def keep_signed_in(request: HttpRequest, member: StaffMember) -> None:
    """After the member changed their own password in this session: keep this session (every
    other session of theirs has ended with the old password)."""
    STAFF.remember(request, member)


def signed_in_staff(request: HttpRequest) -> StaffMember | None:
    """The staff member signed in in this session, while active and with the same password."""
    return STAFF.signed_in(request)


def signed_in_clerk(request: HttpRequest) -> StaffMember | None:
    """The signed-in staff member, if a Czech POINT clerk."""
    member = signed_in_staff(request)
    return member if member is not None and member.is_clerk else None


def signed_in_operator(request: HttpRequest) -> StaffMember | None:
    """The signed-in staff member, if an operator of the simulator."""
    member = signed_in_staff(request)
    return member if member is not None and member.is_operator else None
