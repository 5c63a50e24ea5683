"""MojeID Klíč pages: settings, the second sign-in step, re-authentication."""

from django.urls import path

from . import views

app_name = "klic"

urlpatterns = [
    path("settings/klic/set/", views.set_up, name="set_up"),
    path("settings/klic/set/status/", views.set_up_status, name="set_up_status"),
    path("settings/klic/confirm/", views.confirm, name="confirm"),
    path("settings/klic/remove/", views.remove, name="remove"),
    path("settings/klic/unblock/", views.unblock, name="unblock"),
    path("login/klic/", views.login_page, name="login"),
    path("login/klic/start/", views.login_start, name="login_start"),
    path("login/klic/status/", views.login_status, name="login_status"),
    path("account/reauthenticate/klic/start/", views.reauth_start, name="reauth_start"),
    path("account/reauthenticate/klic/status/", views.reauth_status, name="reauth_status"),
]
