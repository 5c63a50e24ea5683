"""The helpdesk's role: the permissions its staff need, and nothing that makes them superusers.

The group "Helpdesk" exists in every installation (made after each migrate): helpdesk staff are
put into it rather than made superusers. It may look up accounts, edit a profile's identity fields
and set a password (both through the services), and read the audit log, the outbox and the second
factors. It cannot grant staff or superuser status, change groups or permissions, or delete.
"""

from django.contrib.auth.models import Group, Permission

HELPDESK_GROUP = "Helpdesk"
HELPDESK_PERMISSIONS = [
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


def ensure_helpdesk_group(using: str = "default") -> Group:
    """The group "Helpdesk" with exactly HELPDESK_PERMISSIONS (idempotent)."""
    group, _ = Group.objects.using(using).get_or_create(name=HELPDESK_GROUP)
    wanted = [
        Permission.objects.using(using).get(content_type__app_label=app, codename=codename)
        for app, codename in HELPDESK_PERMISSIONS
    ]
    group.permissions.set(wanted)
    return group
