"""URLs of the portal; the simulated state systems are mounted under /sim/ when embedded."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("", include("accounts.urls")),
    path("", include("twofactor.urls")),
    path("admin/", admin.site.urls),
]

if settings.GOVSIM_EMBEDDED:
    urlpatterns += [
        path("sim/admin/", include("govsim.admin_urls")),
        path("sim/", include("govsim.urls")),
    ]
