"""The simulator's admin site, mounted at sim/admin/ (embedded) or admin/ (standalone)."""

from django.urls import path

from .admin import site

urlpatterns = [path("", site.urls)]
