"""`manage.py govsim_person`: the first operator of a simulator without the demo world."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from govsim.models import StaffMember

pytestmark = pytest.mark.django_db

PASSWORD = "spravce-heslo-2026"


def run(monkeypatch, *args: str, password: str = PASSWORD) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))  # not a terminal: read it
    out = io.StringIO()
    call_command("govsim_person", *args, stdout=out)
    return out.getvalue()


def test_an_operator_is_added_and_signs_in_to_the_simulators_admin(monkeypatch, client):
    output = run(monkeypatch, "Spravce", "--operator", "--name", "Sára Správcová")

    member = StaffMember.objects.get()
    assert (member.username, member.full_name, member.is_operator) == (
        "spravce",
        "Sára Správcová",
        True,
    )
    assert PASSWORD not in member.password
    assert "Added spravce" in output
    response = client.post("/sim/admin/login/", {"username": "spravce", "password": PASSWORD})
    assert response.status_code == 302


def test_running_it_again_changes_the_password_and_adds_a_role(monkeypatch):
    run(monkeypatch, "spravce", "--operator")

    output = run(
        monkeypatch,
        "spravce",
        "--clerk",
        "--office",
        "Czech POINT – Brno",
        password="nove-heslo-2026",
    )

    member = StaffMember.objects.get()
    assert member.is_operator and member.is_clerk and member.office == "Czech POINT – Brno"
    assert member.check_password("nove-heslo-2026")
    assert "Changed spravce" in output


@pytest.mark.parametrize(
    "args, password",
    [
        (["spravce", "--operator"], "short"),  # the password validators
        (["spravce"], PASSWORD),  # no role
        (["spravce", "--clerk"], PASSWORD),  # a clerk without an office
        (["Not A Username!", "--operator"], PASSWORD),
    ],
)
def test_a_bad_person_is_refused_and_nothing_is_saved(monkeypatch, args, password):
    with pytest.raises(CommandError) as refused:
        run(monkeypatch, *args, password=password)

    assert refused.value.returncode == 2
    assert not StaffMember.objects.exists()
