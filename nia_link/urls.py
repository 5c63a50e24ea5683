from django.urls import path

from . import saml_views, views

app_name = "nia_link"

urlpatterns = [
    path("settings/public-administration/", views.get_access, name="get_access"),
    path("settings/public-administration/request/show/", views.show_request, name="show_request"),
    path("settings/public-administration/request/cancel/", views.cancel, name="cancel"),
    path("settings/public-administration/complete/", views.review, name="review"),
    path("settings/public-administration/data-box/", views.data_box, name="data_box"),
    path("settings/public-administration/remove/", views.remove_access, name="remove_access"),
    path("settings/public-administration/verify/", views.verify_at_nia, name="verify_at_nia"),
    path("settings/public-administration/keys/<int:pk>/", views.get_key, name="get_key"),
    path(
        "settings/public-administration/keys/<int:pk>/complete/",
        views.complete_key,
        name="complete_key",
    ),
    # The portal as NIA's service provider (the eObčanka route); NIA has these addresses.
    path("nia/saml/metadata/", views.saml_metadata, name="saml_metadata"),
    path("nia/saml/acs/", views.saml_acs, name="saml_acs"),
    # The portal as NIA's identity provider (sign-in to public administration services).
    path("nia/idp/sso/", saml_views.sso, name="idp_sso"),
    path("nia/idp/signin/<str:token>/", saml_views.sign_in_page, name="idp_signin"),
    path("nia/idp/signin/<str:token>/refuse/", saml_views.refuse, name="idp_refuse"),
    path("nia/idp/signin/<str:token>/key/options/", saml_views.key_options, name="idp_key_options"),
    path("nia/idp/signin/<str:token>/key/verify/", saml_views.key_verify, name="idp_key_verify"),
    path("nia/idp/signin/<str:token>/klic/start/", saml_views.klic_start, name="idp_klic_start"),
    path("nia/idp/signin/<str:token>/klic/status/", saml_views.klic_status, name="idp_klic_status"),
    # Last: a level is any one path segment.
    path("settings/public-administration/<str:level>/", views.choose_route, name="choose_route"),
]
