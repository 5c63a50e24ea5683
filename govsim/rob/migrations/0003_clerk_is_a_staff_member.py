"""Data provisions name the simulator's own clerk instead of a portal account (2 of 2): the
column filled by `0002` takes the old one's place. (A migration of its own: PostgreSQL does not
alter a table with rows updated earlier in the same transaction.)"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sim_rob", "0002_clerks_are_staff_members"),
    ]

    operations = [
        migrations.RemoveField(model_name="dataprovisionrequest", name="clerk"),
        migrations.RenameField(
            model_name="dataprovisionrequest", old_name="staff_clerk", new_name="clerk"
        ),
        migrations.AlterField(
            model_name="dataprovisionrequest",
            name="clerk",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="govsim.staffmember",
                verbose_name="clerk",
            ),
        ),
    ]
