"""Placeholder until the reset flow lands."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def start(request: HttpRequest) -> HttpResponse:
    return redirect("accounts:login")
