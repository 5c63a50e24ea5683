"""The helpdesk's roles: the permissions its staff need, and nothing that makes them superusers.

The groups "Helpdesk" and "Helpdesk supervisor" exist in every installation (made by a migration,
their permissions set after each migrate, when the permissions exist): helpdesk staff are put
into one of them rather than made superusers. An operator may look up accounts, verify a caller
and act for them (`helpdesk.caller`, `helpdesk.actions`), edit a profile's identity fields and set
a password (through the services), record a verified reset form, and read the audit log of
citizens, the outbox (recipients masked) and the second factors. A supervisor may do the same,
decide the reset forms others recorded, view their scans, and read the audit of staff and the
verified calls. Neither can grant staff or superuser status, change groups or permissions, or
delete.
"""

from django.contrib.auth.models import Group, Permission

HELPDESK_GROUP = "Helpdesk"
SUPERVISOR_GROUP = "Helpdesk supervisor"
HELPDESK_PERMISSIONS = [
    ("helpdesk", "verify_caller"),
    ("helpdesk", "add_resetform"),
    ("helpdesk", "view_resetform"),
    ("nia_link", "view_link"),
    ("nia_link", "view_unmatched"),
    ("accounts", "view_user"),
    ("accounts", "change_user"),
    ("accounts", "view_profile"),
    ("accounts", "change_profile"),
    ("accounts", "view_auditevent"),
    ("mojeid", "view_outboxmessage"),
    ("twofactor", "view_securitykey"),
    ("twofactor", "view_klicdevice"),
    ("twofactor", "view_authenticatormodel"),
    ("twofactor", "view_metadataload"),
]


#: The supervisor does what the helpdesk does, and sees the audit of staff (every account's).
SUPERVISOR_PERMISSIONS = [
    *HELPDESK_PERMISSIONS,
    ("helpdesk", "view_verifiedcall"),
    ("helpdesk", "decide_resetform"),
]


def _ensure(name: str, permissions: list[tuple[str, str]], using: str) -> Group:
    group, _ = Group.objects.using(using).get_or_create(name=name)
    wanted = [
        Permission.objects.using(using).get(content_type__app_label=app, codename=codename)
        for app, codename in permissions
    ]
    group.permissions.set(wanted)
    return group


def ensure_helpdesk_group(using: str = "default") -> Group:
    """The group "Helpdesk" with exactly HELPDESK_PERMISSIONS (idempotent)."""
    return _ensure(HELPDESK_GROUP, HELPDESK_PERMISSIONS, using)


def ensure_supervisor_group(using: str = "default") -> Group:
    """The group "Helpdesk supervisor" with exactly SUPERVISOR_PERMISSIONS (idempotent)."""
    return _ensure(SUPERVISOR_GROUP, SUPERVISOR_PERMISSIONS, using)


def is_supervisor(user) -> bool:
    return user.is_superuser or user.groups.filter(name=SUPERVISOR_GROUP).exists()
