"""`manage.py seed_govsim`: the portal's accounts at the simulated systems always, with the keys
of the settings (the DEVELOPMENT keys only under development settings); the demo world only when
asked for; running it again changes nothing."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from govsim.isds.models import DataBox, Person
from govsim.models import StaffMember
from govsim.nia.models import ServiceProvider
from govsim.rob.models import Citizen, IdDocument, Recipient

pytestmark = pytest.mark.django_db

KEYS = {
    "GOVSIM_ROB_API_KEY": "rob-key-of-this-installation",
    "GOVSIM_ISDS_API_KEY": "isds-key-of-this-installation",
    "GOVSIM_NIA_API_KEY": "nia-key-of-this-installation",
}
DEVELOPMENT_KEYS = ("dev-rob-key-mojeid", "dev-isds-key-mojeid", "dev-nia-key-mojeid")


@pytest.fixture(autouse=True)
def _own_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the simulated NIA makes its development keys there


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_govsim", *args, stdout=out)
    return out.getvalue()


def counts() -> tuple[int, ...]:
    return (
        Citizen.objects.count(),
        IdDocument.objects.count(),
        DataBox.objects.count(),
        Person.objects.count(),
        ServiceProvider.objects.count(),
        Recipient.objects.count(),
        StaffMember.objects.count(),
    )


def status_with(client, key: str) -> dict[str, int]:
    """What each simulated system answers the portal's account with this key."""
    headers = {"Authorization": f"Bearer {key}"}
    return {
        "rob": client.get("/sim/rob/api/v1/provisions", headers=headers).status_code,
        "isds": client.get("/sim/isds/api/v1/messages", headers=headers).status_code,
        # Authenticated: 200 (its notifications); a wrong key: 401.
        "nia": client.post(
            "/sim/nia/api/v1/submit/TR_NOTIFIKACE_IDP",
            {"NotifikaceIdpPosledniId": 0},
            content_type="application/json",
            headers=headers,
        ).status_code,
    }


def test_with_the_demo_twice_gives_the_same_world(settings):
    settings.GOVSIM_DEMO = True
    first = seed()
    after_first = counts()

    second = seed()

    assert counts() == after_first
    assert first == second
    assert after_first[0] >= 5 and after_first[2] >= 5 and after_first[4] == 1
    assert "The portal's accounts" in first and "Demo world" in first
    assert "urednik" in first and "spravce" in first
    # The demo world has what the issue lists.
    assert Citizen.objects.filter(deceased=True).exists()
    assert Citizen.objects.filter(residence_type="foreigner_temporary").exists()
    assert IdDocument.objects.filter(kind="id_card", nia_activated=True).exists()
    assert IdDocument.objects.filter(kind="id_card", nia_activated=False).exists()
    assert {"FO", "PFO", "PO", "OVM"} <= set(DataBox.objects.values_list("box_type", flat=True))
    assert Citizen.objects.filter(last_name="Řeháková").exists(), "diacritics"


def test_the_demo_clerk_and_operator_sign_in_where_they_work_and_only_there(client, settings):
    settings.GOVSIM_DEMO = True
    seed()
    password = "demo-heslo-2026"

    desk = client.post("/sim/czechpoint/login/", {"username": "urednik", "password": password})
    clerk_in_admin = client.post("/sim/admin/login/", {"username": "urednik", "password": password})
    admin = client.post("/sim/admin/login/", {"username": "spravce", "password": password})

    assert desk.status_code == 302
    assert clerk_in_admin.status_code == 200  # a clerk is no operator
    assert admin.status_code == 302
    assert client.get("/sim/admin/").status_code == 200
    assert get_user_model().objects.count() == 0, "no portal account made by the simulator"
    urednik = StaffMember.objects.get(username="urednik")
    assert (urednik.is_clerk, urednik.is_operator, bool(urednik.office)) == (True, False, True)
    assert StaffMember.objects.get(username="spravce").is_operator


def test_without_the_demo_only_the_portals_accounts_are_made(client, settings):
    settings.GOVSIM_DEMO = False

    output = seed()

    assert counts() == (0, 0, 1, 0, 1, 1, 0)
    assert "not loaded" in output
    assert status_with(client, "dev-rob-key-mojeid")["rob"] == 200
    assert status_with(client, "dev-isds-key-mojeid")["isds"] == 200
    assert status_with(client, "dev-nia-key-mojeid")["nia"] == 200


def test_demo_on_the_command_line_loads_it_whatever_the_setting(settings):
    settings.GOVSIM_DEMO = False

    output = seed("--demo")

    assert Citizen.objects.exists() and StaffMember.objects.count() == 2
    assert "Demo world: base register" in output


def test_the_keys_of_the_settings_and_no_development_key(client, settings):
    settings.GOVSIM_DEMO = False
    for name, value in KEYS.items():
        setattr(settings, name, value)

    output = seed()

    assert status_with(client, KEYS["GOVSIM_ROB_API_KEY"])["rob"] == 200
    assert status_with(client, KEYS["GOVSIM_ISDS_API_KEY"])["isds"] == 200
    assert status_with(client, KEYS["GOVSIM_NIA_API_KEY"])["nia"] == 200
    for key in DEVELOPMENT_KEYS:
        assert set(status_with(client, key).values()) == {401}
    assert "GOVSIM_ROB_API_KEY" in output and "DEVELOPMENT" not in output
    assert not any(value in output for value in KEYS.values()), "keys are not printed"


def test_under_production_settings_with_the_keys_it_seeds_no_demo(client, settings):
    settings.PRODUCTION = True
    settings.GOVSIM_DEMO = False
    for name, value in KEYS.items():
        setattr(settings, name, value)

    seed()

    assert counts() == (0, 0, 1, 0, 1, 1, 0)
    assert status_with(client, KEYS["GOVSIM_ISDS_API_KEY"])["isds"] == 200


@pytest.mark.parametrize("missing", list(KEYS))
def test_under_production_settings_a_missing_key_stops_it_and_writes_nothing(settings, missing):
    settings.PRODUCTION = True
    settings.GOVSIM_DEMO = True
    for name, value in KEYS.items():
        setattr(settings, name, "" if name == missing else value)

    with pytest.raises(CommandError) as refused:
        seed()

    assert refused.value.returncode == 2
    assert missing in str(refused.value)
    assert "\n" not in str(refused.value)
    assert counts() == (0, 0, 0, 0, 0, 0, 0)


def test_seeding_again_never_resets_what_an_operator_changed(settings):
    """Compose seeds on every start: a demo operator switched off or given a new password stays
    so."""
    settings.GOVSIM_DEMO = True
    seed()
    StaffMember.objects.filter(username="spravce").update(is_active=False)
    clerk = StaffMember.objects.get(username="urednik")
    clerk.set_password("nove-heslo-uredniku-2027")
    clerk.save()

    seed()

    assert not StaffMember.objects.get(username="spravce").is_active
    assert StaffMember.objects.get(username="urednik").check_password("nove-heslo-uredniku-2027")
