"""ROOT_URLCONF of the simulator running on its own: the state systems at the root."""

from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language

from .views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("admin/", include("govsim.admin_urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("govsim.urls")),
]
