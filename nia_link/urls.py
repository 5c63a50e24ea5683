from django.urls import path

from . import views

app_name = "nia_link"

urlpatterns = [
    path("settings/public-administration/", views.get_access, name="get_access"),
    path("settings/public-administration/request/show/", views.show_request, name="show_request"),
    path("settings/public-administration/request/cancel/", views.cancel, name="cancel"),
    path("settings/public-administration/complete/", views.review, name="review"),
    path("settings/public-administration/data-box/", views.data_box, name="data_box"),
    path("settings/public-administration/remove/", views.remove_access, name="remove_access"),
    path("settings/public-administration/verify/", views.verify_at_nia, name="verify_at_nia"),
    # The portal as NIA's service provider (the eObčanka route); NIA has these addresses.
    path("nia/saml/metadata/", views.saml_metadata, name="saml_metadata"),
    path("nia/saml/acs/", views.saml_acs, name="saml_acs"),
    # Last: a level is any one path segment.
    path("settings/public-administration/<str:level>/", views.choose_route, name="choose_route"),
]
