"""Number matching for MojeID Klíč sign-in requests.

A request still waiting when this runs gets the number 0, which no approval can name (the app
offers only two-digit numbers): it can be denied or left to expire (2 minutes), never approved.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("twofactor", "0006_klic_device_activation"),
    ]

    operations = [
        migrations.AddField(
            model_name="klicloginrequest",
            name="number",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="klicloginrequest",
            name="number_choices",
            field=models.JSONField(default=list),
        ),
    ]
