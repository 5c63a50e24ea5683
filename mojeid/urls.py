"""URLs of the portal; the simulated state systems are mounted under /sim/ when embedded."""

from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admins'): the portal's one.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("", include("accounts.urls")),
    path("", include("twofactor.urls")),
    path("", include("nia_link.urls")),
    path("admin/", admin.site.urls),
]

if settings.GOVSIM_EMBEDDED:
    urlpatterns += [
        path("sim/admin/", include("govsim.admin_urls")),
        path("sim/", include("govsim.urls")),
    ]
