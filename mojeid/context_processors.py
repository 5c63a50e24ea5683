"""Template context shared by every page."""

from django.conf import settings
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict:
    return {"GOVSIM_EMBEDDED": settings.GOVSIM_EMBEDDED}
