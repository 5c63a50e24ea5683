"""URLs of the simulated world, mounted under /sim/ in the embedded default and at the root when
the simulator runs on its own (`govsim.standalone_urls`, the `govsim` service of docker-compose).
Its admin site is mounted beside it (`govsim.admin_urls`): an admin cannot live in a namespace.
"""

from django.urls import include, path, re_path

from . import klic, outbox, views

app_name = "govsim"

urlpatterns = [
    path("", views.home, name="home"),
    path("outbox/", outbox.outbox, name="outbox"),
    path("klic/", klic.app, name="klic"),
    path("rob/", include("govsim.rob.urls")),
    path("isds/", include("govsim.isds.urls")),
    path("nia/", include("govsim.nia.urls")),
    path("sep/", include("govsim.sep.urls")),
    path("czechpoint/", include("czechpoint.urls")),
    # Last: any other address is the simulator's own 404 page (CommonMiddleware still adds a
    # missing slash first: it redirects a 404 whose address with a slash exists).
    re_path(r"^(?P<rest>[\s\S]*)\Z", views.not_found, name="not_found"),
]
