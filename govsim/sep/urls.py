"""URLs of the demo service (under /sim/sep/ embedded, /sep/ standalone)."""

from django.urls import path

from . import views

app_name = "sep"

urlpatterns = [
    path("", views.home, name="home"),
    path("acs/", views.acs, name="acs"),
    path("metadata/", views.metadata, name="metadata"),
    path("logout/", views.logout, name="logout"),
]
