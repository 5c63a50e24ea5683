"""URLs of the simulated world, mounted under /sim/ in the embedded default."""

from django.urls import path

from . import klic, outbox

app_name = "govsim"

urlpatterns = [
    path("outbox/", outbox.outbox, name="outbox"),
    path("klic/", klic.app, name="klic"),
]
