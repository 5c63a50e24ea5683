"""The two-factor reset: "Does your two-factor authentication not function properly?"."""

from django.urls import path

from . import views

app_name = "reset"

urlpatterns = [
    path("", views.start, name="start"),
    path("confirm/", views.confirm, name="confirm"),
]
