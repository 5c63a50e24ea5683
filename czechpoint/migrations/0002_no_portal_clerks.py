"""The desk's clerks are the simulator's own people now (`govsim.StaffMember`): the group "Czech
POINT clerks", its permission `czechpoint.file_request` and the table-less model `Desk` that
carried it, all of the portal's auth, go. `sim_rob.0002` has made the group's members simulator
clerks first."""

from django.db import migrations

CLERKS_GROUP = "Czech POINT clerks"


def remove_clerks_group(apps, schema_editor) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group.objects.filter(name=CLERKS_GROUP).delete()
    Permission.objects.filter(content_type__app_label="czechpoint").delete()
    ContentType.objects.filter(app_label="czechpoint", model="desk").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("czechpoint", "0001_initial"),
        ("sim_rob", "0002_clerks_are_staff_members"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(remove_clerks_group, migrations.RunPython.noop),
        migrations.DeleteModel(name="Desk"),
    ]
