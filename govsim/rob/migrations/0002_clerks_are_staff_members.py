"""Data provisions name the simulator's own clerk instead of a portal account (1 of 2).

Until now a clerk was a row of the portal's user table in the group "Czech POINT clerks". Each
portal account that filed a provision or was in that group becomes a simulator person with the
clerk's role: a member of the group keeps their password (its hash is copied) and may sign in at
the desk; anybody else is kept, unable to sign in, only as the name on the provisions they filed.
The seeded demo clerk's portal account (`urednik`) is then switched off in the portal. The group
and its permission are removed by `czechpoint.0002`; the old column by `0003`. A fresh database
has none of this and passes through unchanged.
"""

import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ObjectDoesNotExist
from django.db import migrations, models

CLERKS_GROUP = "Czech POINT clerks"
# The office the desk printed before clerks had offices of their own (its former default).
OFFICE = "Czech POINT – Úřad městské části Praha 1"
# The portal account the simulator's demo seed made for its clerk, known by both.
SEEDED_CLERK = ("urednik", "urednik@czechpoint.example")


def _full_name(user) -> str:
    try:
        profile = user.profile  # the portal keeps names beside the account, when it does
    except (AttributeError, ObjectDoesNotExist):
        return user.username
    name = f"{getattr(profile, 'first_name', '')} {getattr(profile, 'last_name', '')}".strip()
    return name or user.username


def clerks_to_staff(apps, schema_editor) -> None:
    Provision = apps.get_model("sim_rob", "DataProvisionRequest")
    StaffMember = apps.get_model("govsim", "StaffMember")
    Group = apps.get_model("auth", "Group")
    User = apps.get_model(settings.AUTH_USER_MODEL)

    group = Group.objects.filter(name=CLERKS_GROUP).first()
    members = (
        set(User.objects.filter(groups=group).values_list("pk", flat=True)) if group else set()
    )
    filers = set(Provision.objects.values_list("clerk_id", flat=True).distinct())
    for user in User.objects.filter(pk__in=members | filers).order_by("pk"):
        may_sign_in = user.pk in members and user.is_active
        staff, _created = StaffMember.objects.get_or_create(
            username=user.username.lower(),
            defaults={
                "full_name": _full_name(user)[:200],
                # The same password as before (a hash of Django's hashers), or none at all.
                "password": user.password if may_sign_in else make_password(None),
                "is_clerk": True,
                "office": OFFICE,
                "is_active": may_sign_in,
            },
        )
        Provision.objects.filter(clerk_id=user.pk).update(staff_clerk=staff)

    # The demo clerk no longer signs in to the portal (its desk login is the simulator's now).
    username, email = SEEDED_CLERK
    seeded = User.objects.filter(username=username).first()
    if seeded is not None:
        try:
            seeded_email = seeded.profile.email
        except (AttributeError, ObjectDoesNotExist):
            seeded_email = getattr(seeded, "email", None)
        if seeded_email == email:
            User.objects.filter(pk=seeded.pk).update(is_active=False)


class Migration(migrations.Migration):
    dependencies = [
        ("sim_rob", "0001_initial"),
        ("govsim", "0002_staff"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="dataprovisionrequest",
            name="staff_clerk",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="govsim.staffmember",
            ),
        ),
        migrations.RunPython(clerks_to_staff, migrations.RunPython.noop),
    ]
