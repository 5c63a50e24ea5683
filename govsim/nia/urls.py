"""URLs of the simulated NIA (under /sim/nia/ embedded, /nia/ standalone)."""

from django.urls import path, re_path

from . import api, views

app_name = "nia"

urlpatterns = [
    path("", views.home, name="home"),
    path("saml/metadata/", views.metadata, name="metadata"),
    path("saml/sso/", views.single_sign_on, name="sso"),
    # NIA as the service provider of qualified identity providers (the hub).
    path("saml/broker/metadata/", views.broker_metadata, name="broker_metadata"),
    path("saml/broker/acs/", views.broker_acs, name="broker_acs"),
    path("login/<str:login_id>/", views.choose_means, name="choose"),
    path("login/<str:login_id>/eobcanka/", views.eobcanka, name="eobcanka"),
    path("login/<str:login_id>/consent/", views.consent, name="consent"),
    path(
        "login/<str:login_id>/provider/<int:provider_id>/",
        views.via_provider,
        name="via_provider",
    ),
    path("login/<str:login_id>/cancel/", views.cancel, name="cancel"),
    path("api/v1/submit/<str:action>", api.submit, name="api_submit"),
    # Anything else under api/ is a JSON 404 (last: it matches every address there).
    re_path(r"^api(?:/[\s\S]*)?\Z", api.not_found),
]
