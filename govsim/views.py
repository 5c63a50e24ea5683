"""The simulator's own pages: its home page (what each simulated system is for, where it is, and
the demo logins when the demo world is loaded), its 404 page, and its health check."""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.http import escape_leading_slashes
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from .isds import seed as isds_seed
from .isds import services as isds_services
from .isds.models import Person
from .models import StaffMember, System
from .outage import is_down
from .rob import seed as rob_seed
from .rob.models import DocumentKind, IdDocument
from .seed import DEMO_PASSWORD, DEMO_STAFF


@dataclass(frozen=True)
class DemoBox:
    box_id: str
    box_type: str


@dataclass(frozen=True)
class DemoLogin:
    """A demo login as the home page lists it: who signs in, and for a data box person the
    boxes they act for."""

    username: str
    full_name: str
    boxes: list[DemoBox] = field(default_factory=list)


@dataclass
class DemoWorld:
    """The demo logins that exist in this database, by the place they are used."""

    password: str = DEMO_PASSWORD
    card_pin: str = ""
    clerks: list[DemoLogin] = field(default_factory=list)
    operators: list[DemoLogin] = field(default_factory=list)
    box_persons: list[DemoLogin] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.card_pin or self.clerks or self.operators or self.box_persons)


def demo_logins_shown() -> bool:
    """Whether the home page may print the demo passwords: always in development, under
    production settings only when the demo world was asked for (GOVSIM_DEMO, the compose stack's
    simulator). A real installation that made people with these usernames is no demo."""
    return not settings.PRODUCTION or settings.GOVSIM_DEMO


def demo_world() -> DemoWorld:
    """The demo people `seed_govsim` loads, as far as they exist and may sign in: a world
    without the demo (or whose operator switched a demo person off) offers none of them.

    Passwords are not checked (that would cost a slow hash per person on every visit): a demo
    person whose password an operator changed is still listed with the demo password.
    """
    world = DemoWorld()
    staff = StaffMember.objects.filter(
        username__in=[entry["username"] for entry in DEMO_STAFF], is_active=True
    ).order_by("username")
    for member in staff:
        login = DemoLogin(member.username, member.full_name)
        if member.is_clerk:
            world.clerks.append(login)
        if member.is_operator:
            world.operators.append(login)

    usernames = []
    for box in isds_seed.BOXES:
        for someone in ([box.owner] if box.owner else []) + list(box.authorised):
            if someone.username not in usernames:
                usernames.append(someone.username)
    persons = {
        person.username: person
        for person in Person.objects.filter(username__in=usernames, is_active=True)
    }
    for username in usernames:  # in the seed's order: the citizens first, then the officials
        person = persons.get(username)
        if person is None:
            continue
        boxes = [DemoBox(a.box.box_id, a.box.box_type) for a in isds_services.boxes_of(person)]
        world.box_persons.append(DemoLogin(username, person.full_name, boxes))

    demo_citizens = [rob_seed.citizen_identifier(entry["key"]) for entry in rob_seed.CITIZENS]
    if IdDocument.objects.filter(
        kind=DocumentKind.ID_CARD, citizen__identifier__in=demo_citizens
    ).exists():
        world.card_pin = rob_seed.DEMO_CARD_PIN
    return world


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The simulator's home page: every simulated system, what it is for and where it is."""
    context = {
        "demo": demo_world() if demo_logins_shown() else DemoWorld(),
        "down": {system.value for system in System if is_down(system.value)},
        "outbox_open": settings.DEBUG,
    }
    return render(request, "govsim/home.html", context)


def _with_slash(request: HttpRequest) -> str | None:
    """The address with a slash added, when that is a page (what CommonMiddleware's APPEND_SLASH
    does, which this catch-all would otherwise defeat: every address resolves here)."""
    if not settings.APPEND_SLASH or request.path_info.endswith("/"):
        return None
    if request.method not in ("GET", "HEAD"):
        return None  # a redirect would lose the body
    try:
        match = resolve(f"{request.path_info}/", getattr(request, "urlconf", None))
    except Resolver404:
        return None
    if match.url_name == "not_found":
        return None
    # escape_leading_slashes: "//example.com" must not become a redirect to another site.
    return escape_leading_slashes(request.get_full_path(force_append_slash=True))


@csrf_exempt  # answers every method alike and changes nothing: a POST gets the 404, not a 403
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other address under the simulator: its own 404 page, also with DEBUG on (Django's
    debug page would list every URL of the site)."""
    with_slash = _with_slash(request)
    if with_slash is not None:
        return HttpResponsePermanentRedirect(with_slash)
    return render(request, "govsim/not_found.html", status=404)


def healthz(request: HttpRequest) -> JsonResponse:
    """The simulator's own health check, for the standalone `govsim` service."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "service": "govsim"})
