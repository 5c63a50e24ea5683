"""URLs of the simulated data box system, under /sim/isds/ (embedded) or /isds/ (standalone)."""

from django.urls import path, re_path

from . import views

app_name = "isds"

urlpatterns = [
    path("", views.index, name="index"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("concept/", views.concept, name="concept"),
    path("box/<str:box_id>/", views.box, name="box"),
    path("box/<str:box_id>/new/", views.write, name="write"),
    path("message/<int:pk>/", views.message, name="message"),
    path("api/v1/messages", views.api_messages, name="api_messages"),
    # Every other path under the API: a JSON 404 as well, not the site's HTML page.
    re_path(r"^api/(?P<rest>.*)$", views.api_unknown, name="api_unknown"),
]
