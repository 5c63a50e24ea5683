"""URLs of the simulated base register: its JSON API for data recipients."""

from django.urls import path, re_path

from . import api

app_name = "rob"

urlpatterns = [
    path("api/v1/provisions", api.provisions, name="api-provisions"),
    path("api/v1/citizens/<str:identifier>", api.citizen, name="api-citizen"),
    path("api/v1/changes", api.changes, name="api-changes"),
    re_path(r"^api/(?P<rest>.*)$", api.unknown_endpoint, name="api-unknown"),
]
