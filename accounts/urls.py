from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/forgotten/", views.password_forgotten, name="password_forgotten"),
    path("password/reset/<str:uid>/<str:token>/", views.password_reset, name="password_reset"),
    path("account/reauthenticate/", views.reauthenticate, name="reauthenticate"),
    path("account/confirm/", views.confirm_contacts, name="confirm"),
    path("account/confirm/<str:channel>/", views.confirm_contact, name="confirm_contact"),
    path("account/confirm/<str:channel>/resend/", views.resend_code, name="resend_code"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/profile/", views.edit_profile, name="edit_profile"),
    path("settings/password/", views.change_password, name="change_password"),
    path("settings/contact/<str:channel>/", views.change_contact, name="change_contact"),
]
