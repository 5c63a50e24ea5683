from django.urls import path

from . import views

app_name = "nia_link"

urlpatterns = [
    path("settings/public-administration/", views.get_access, name="get_access"),
    path("settings/public-administration/request/show/", views.show_request, name="show_request"),
    path("settings/public-administration/request/cancel/", views.cancel, name="cancel"),
    path("settings/public-administration/complete/", views.review, name="review"),
    # Last: a level is any one path segment.
    path("settings/public-administration/<str:level>/", views.choose_route, name="choose_route"),
]
