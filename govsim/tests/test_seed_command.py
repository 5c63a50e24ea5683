"""`manage.py seed_govsim` loads the demo world once; running it again changes nothing."""

from io import StringIO

import pytest
from django.core.management import call_command

from govsim.isds.models import DataBox
from govsim.nia.models import ServiceProvider
from govsim.rob.models import Citizen, IdDocument

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int, int]:
    return (
        Citizen.objects.count(),
        IdDocument.objects.count(),
        DataBox.objects.count(),
        ServiceProvider.objects.count(),
    )


def test_seeding_twice_gives_the_same_world(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the simulated NIA makes its development keys there
    first = StringIO()
    call_command("seed_govsim", stdout=first)
    after_first = counts()

    call_command("seed_govsim", stdout=StringIO())

    assert counts() == after_first
    assert after_first[0] >= 5 and after_first[2] >= 5 and after_first[3] == 1
    assert "base register" in first.getvalue() and "data boxes" in first.getvalue()
    # The demo world has what the issue lists.
    assert Citizen.objects.filter(deceased=True).exists()
    assert Citizen.objects.filter(residence_type="foreigner_temporary").exists()
    assert IdDocument.objects.filter(kind="id_card", nia_activated=True).exists()
    assert IdDocument.objects.filter(kind="id_card", nia_activated=False).exists()
    assert {"FO", "PFO", "PO", "OVM"} <= set(DataBox.objects.values_list("box_type", flat=True))
    assert Citizen.objects.filter(last_name="Řeháková").exists(), "diacritics"
