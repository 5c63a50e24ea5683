"""The two staff roles, as groups; their permissions are set after each migrate
(`helpdesk.apps`), when every permission exists."""

from django.db import migrations

ROLES = ("Helpdesk", "Helpdesk supervisor")


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.using(schema_editor.connection.alias).get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
