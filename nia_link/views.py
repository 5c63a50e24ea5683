"""Pages of the Access to public administration services section: thin, over `flows`."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import login_required
from accounts.reauth import raise_if_reauthentication_required, replayable_fields, sensitive_change
from mojeid.qr import qr_svg

from . import completion, flows, services
from .exceptions import IllegalTransition, NiaUnavailable, VerificationRefused
from .internal import codes
from .internal.eligibility import MESSAGES
from .models import Level, LinkState, Route

#: The routes the pages offer so far; the data box and eObčanka routes come with their matching.
OFFERED_ROUTES = (Route.CZECH_POINT,)
SECTION = "#public-administration"
ENABLED = gettext_lazy(
    "The option to log in to public administration services using MojeID is now enabled."
)


def _section() -> HttpResponse:
    return redirect(reverse("accounts:settings") + SECTION)


def _said(problems: list[str]) -> list[str]:
    """What the codes of `eligibility.MESSAGES` say to the citizen."""
    return [str(MESSAGES[code]) for code in problems]


def _problems(request: HttpRequest, level: str) -> list[str]:
    return _said(services.request_problems(request.user, level, Route.CZECH_POINT))


@never_cache
@login_required
def get_access(request: HttpRequest) -> HttpResponse:
    """Get access: choose the level of assurance; the page says what each needs and checks it."""
    link = services.open_link(request.user)
    if link is not None and link.state == LinkState.VERIFIED:
        return redirect("nia_link:review")  # the register answered: its data and Complete
    if link is not None:
        return _section()  # the section says where the request stands
    levels = [
        {"value": level.value, "label": level.label, "problems": _problems(request, level)}
        for level in Level
    ]
    return render(request, "nia_link/get_access.html", {"levels": levels})


@sensitive_change(gettext_lazy("You are requesting access to public administration services."))
@replayable_fields("route")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def choose_route(request: HttpRequest, level: str) -> HttpResponse:
    """Continue: after a fresh sign-in with password and second factor, choose how to prove the
    identity; the POST files the request."""
    if level not in Level.values:
        raise Http404
    if services.open_link(request.user) is not None:
        return _section()
    # Before the choice, as the help page shows it; the flow checks it again.
    raise_if_reauthentication_required(request, second_factor=True)
    error = None
    if request.method == "POST":
        route = request.POST.get("route", "")
        if route not in OFFERED_ROUTES:
            error = _("Choose how you want to verify your identity.")
        else:
            try:
                flows.start(request, level=level, route=route)
            except VerificationRefused as refused:
                return render(
                    request,
                    "nia_link/get_access.html",
                    {
                        "levels": [
                            {
                                "value": level,
                                "label": Level(level).label,
                                "problems": _said(refused.problems),
                            }
                        ]
                    },
                    status=409,
                )
            except IllegalTransition:
                return _section()  # a second click: the first one filed it
            return redirect("nia_link:show_request")
    routes = [(route, route.label) for route in OFFERED_ROUTES]
    return render(
        request,
        "nia_link/choose_route.html",
        {"level": Level(level), "routes": routes, "error": error},
        status=400 if error else 200,
    )


@never_cache
@login_required
def show_request(request: HttpRequest) -> HttpResponse:
    """Show request: the printable request for the Czech POINT office (also for the phone)."""
    link = services.open_link(request.user)
    if link is None or link.state != LinkState.REQUESTED or link.route != Route.CZECH_POINT:
        return _section()
    return render(
        request,
        "nia_link/show_request.html",
        {"link": link, "qr_svg": qr_svg(codes.qr_content(link.request_code))},
    )


@login_required
@require_POST
def cancel(request: HttpRequest) -> HttpResponse:
    """Cancel request."""
    try:
        cancelled = flows.cancel(request)
    except IllegalTransition:
        messages.error(request, _("This access can no longer be cancelled here."))
        return _section()
    if cancelled:
        messages.success(request, _("Your request has been cancelled."))
    return _section()


FIELD_LABELS = {
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "birth_date": gettext_lazy("Date of birth"),
    "street": gettext_lazy("Street and number"),
    "city": gettext_lazy("City"),
    "postal_code": gettext_lazy("Postal code"),
}


@sensitive_change(gettext_lazy("You are enabling access to public administration services."))
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest) -> HttpResponse:
    """The register's data beside the profile's (differences marked), and Complete."""
    link = services.open_link(request.user)
    if link is None or link.state != LinkState.VERIFIED:
        return _section()
    if request.method == "POST":
        try:
            flows.complete(request)
        except NiaUnavailable as problem:
            messages.error(request, str(problem.message))
            return _section()
        except VerificationRefused as refused:
            for problem in _said(refused.problems):
                messages.error(request, problem)
            return _section()
        except IllegalTransition:
            return _section()  # a second click: the first one completes it
        messages.success(request, ENABLED)
        return _section()
    register = completion.profile_data(link.register_data)
    profile = request.user.profile
    rows = []
    for name, label in FIELD_LABELS.items():
        current = getattr(profile, name)
        current = current.isoformat() if hasattr(current, "isoformat") else (current or "")
        rows.append(
            {
                "label": label,
                "register": register[name],
                "profile": current,
                "differs": str(register[name]).strip() != str(current).strip(),
            }
        )
    return render(request, "nia_link/review.html", {"link": link, "rows": rows})
