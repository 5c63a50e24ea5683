"""The app's API, version 2 (number matching), under /api/klic/v2/.

Version 1 (`/api/klic/v1/…`) answers every call with 410 `upgrade_required` (`twofactor.urls`).
"""

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
