from django.urls import include, path, re_path

from . import views
from .klic import api as klic_api

app_name = "twofactor"

urlpatterns = [
    path("settings/keys/add/", views.add_key, name="add_key"),
    path("settings/keys/add/options/", views.add_key_options, name="add_key_options"),
    path("settings/keys/add/verify/", views.add_key_verify, name="add_key_verify"),
    path("settings/keys/<int:pk>/", views.key_detail, name="key_detail"),
    path("settings/keys/<int:pk>/remove/", views.remove_key, name="remove_key"),
    path(
        "account/reauthenticate/key/options/",
        views.reauth_key_options,
        name="reauth_key_options",
    ),
    path("login/reset/", include("twofactor.reset.urls")),
    path("", include("twofactor.klic.urls")),
    path("api/klic/v2/", include("twofactor.klic.api_urls")),
    # Version 1 approved without number matching: it must not stay a way around it.
    re_path(r"^api/klic/v1/", klic_api.upgrade_required, name="klic_api_v1"),
    path("login/key/", views.login_key, name="login_key"),
    path("login/key/options/", views.login_key_options, name="login_key_options"),
    path("login/key/verify/", views.login_key_verify, name="login_key_verify"),
]
