"""The desk's own rules: who is a clerk, and which office the desk is.

Identifying citizens and filing requests are operations of the register
(`govsim.rob.services`); the desk's views call them.
"""

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.contrib.contenttypes.models import ContentType

CLERKS_GROUP = "Czech POINT clerks"
PERMISSION = "czechpoint.file_request"
# The office printed on receipts and sent to the recipient; a deployment may name its own with
# the setting CZECHPOINT_OFFICE.
DEFAULT_OFFICE = "Czech POINT – Úřad městské části Praha 1"


def ensure_clerks_group(using: str = "default") -> Group:
    """The group "Czech POINT clerks", holding the permission to use the desk (idempotent)."""
    from .models import Desk

    content_type = ContentType.objects.db_manager(using).get_for_model(
        Desk, for_concrete_model=False
    )
    permission, _ = Permission.objects.using(using).get_or_create(
        content_type=content_type,
        codename="file_request",
        defaults={"name": "Can identify citizens and file requests at the Czech POINT desk"},
    )
    group, _ = Group.objects.using(using).get_or_create(name=CLERKS_GROUP)
    group.permissions.add(permission)
    return group


def is_clerk(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may use the desk (holds `czechpoint.file_request`, e.g. via the group)."""
    return user.is_authenticated and user.has_perm(PERMISSION)


def office_name() -> str:
    """The office the desk stands in, as printed on receipts and sent to the recipient."""
    return getattr(settings, "CZECHPOINT_OFFICE", "") or DEFAULT_OFFICE
