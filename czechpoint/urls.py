"""URLs of the Czech POINT desk (/sim/czechpoint/ embedded)."""

from django.urls import path

from . import views

app_name = "czechpoint"

urlpatterns = [
    path("", views.desk, name="desk"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("file/<uuid:identifier>/", views.file_request, name="file"),
    path("receipt/<int:pk>/", views.receipt, name="receipt"),
]
