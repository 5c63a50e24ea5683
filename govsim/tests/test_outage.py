"""The outage switches and the simulator's admin site, below every simulated system."""

import json

import pytest
from django.http import JsonResponse
from django.test import RequestFactory

from govsim.api import ApiError, api_view
from govsim.models import Outage
from govsim.outage import is_down, set_down, unless_down
from govsim.tests.people import PASSWORD, make_operator

pytestmark = pytest.mark.django_db


@api_view("rob")
def _api(request):
    if request.GET.get("fail"):
        raise ApiError("bad_request", 400, "fail was asked for")
    return JsonResponse({"ok": True})


@unless_down("isds", api=False)
def _page(request):
    return JsonResponse({"ok": True})


def test_a_switch_in_the_admin_takes_a_system_down_and_up(settings):
    settings.GOVSIM_OUTAGES = []
    assert not is_down("rob")

    set_down("rob", True, "planned maintenance")
    answer = _api(RequestFactory().get("/"))

    assert answer.status_code == 503 and answer["Retry-After"]
    assert json.loads(answer.content)["error"] == "unavailable"
    assert "temporarily unavailable" in json.loads(answer.content)["message"]
    set_down("rob", False)
    assert _api(RequestFactory().get("/")).status_code == 200


def test_the_environment_takes_a_system_down_whatever_the_switch(settings):
    settings.GOVSIM_OUTAGES = ["isds"]
    Outage.objects.create(system="isds", down=False)

    page = _page(RequestFactory().get("/"))

    assert page.status_code == 503
    assert "temporarily unavailable" in page.content.decode()


def test_api_errors_and_methods_are_json(settings):
    settings.GOVSIM_OUTAGES = []
    wrong_method = _api(RequestFactory().post("/"))
    failing = _api(RequestFactory().get("/?fail=1"))

    assert (wrong_method.status_code, wrong_method["Allow"]) == (405, "GET")
    assert json.loads(wrong_method.content)["error"] == "method_not_allowed"
    assert (failing.status_code, json.loads(failing.content)["error"]) == (400, "bad_request")


def test_the_simulator_admin_toggles_outages_for_operators_only(client):
    assert client.get("/sim/admin/")["Location"].startswith("/sim/admin/login/")
    make_operator("operator")
    client.post("/sim/admin/login/", {"username": "operator", "password": PASSWORD})
    Outage.objects.create(system="nia", down=False)

    changelist = client.get("/sim/admin/govsim/outage/")
    client.post(
        "/sim/admin/govsim/outage/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-system": "nia",
            "form-0-down": "on",
            "form-0-note": "simulated outage",
            "_save": "Save",
        },
    )

    assert changelist.status_code == 200
    assert Outage.objects.get(system="nia").down
