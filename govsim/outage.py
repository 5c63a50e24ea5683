"""Outages: a simulated system that is down answers as an unavailable system does.

A system is down when the environment says so (`GOVSIM_OUTAGES=rob,nia`, for a whole run) or its
switch is on in the simulator's admin (for a test or a demonstration). Its JSON API then answers
503 with a JSON error and `Retry-After`, its pages a 503 page; nothing is read or written.
"""

from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .models import Outage, System

RETRY_AFTER_SECONDS = 300


def is_down(system: str) -> bool:
    if system in settings.GOVSIM_OUTAGES:
        return True
    return Outage.objects.filter(system=system, down=True).exists()


def set_down(system: str, down: bool, note: str = "") -> None:
    Outage.objects.update_or_create(system=system, defaults={"down": down, "note": note})


def unavailable_json(system: str) -> JsonResponse:
    response = JsonResponse(
        {
            "error": "unavailable",
            "message": _("%(system)s is temporarily unavailable. Try again later.")
            % {"system": System(system).label},
        },
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def unavailable_page(request: HttpRequest, system: str) -> HttpResponse:
    response = render(
        request, "govsim/unavailable.html", {"system": System(system).label}, status=503
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def unless_down(system: str, *, api: bool):
    """Decorate a view of `system`: while the system is down it answers 503 instead."""

    def decorate(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if is_down(system):
                return unavailable_json(system) if api else unavailable_page(request, system)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
