"""The app's API, version 1, under /api/klic/v1/."""

from django.urls import path

from . import api

app_name = "klic_api"

urlpatterns = [
    path("pair", api.pair, name="pair"),
    path("status", api.status, name="status"),
    path("requests", api.requests, name="requests"),
    path("approve", api.approve, name="approve"),
    path("deny", api.deny, name="deny"),
]
