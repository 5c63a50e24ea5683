"""The Czech POINT desk: a clerk identifies a citizen and files "Data provision from the Register
of inhabitants to another person" with the recipient's request code, then prints a receipt.

Views are thin: the register's services find citizens and file the request. Every page answers
503 while the switch "czechpoint" is down; identifying and filing also need the register, so
they answer the register's 503 page while "rob" is down.
"""

from functools import wraps

from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govsim.models import System
from govsim.outage import is_down, unavailable_page, unless_down
from govsim.rob import services as rob
from govsim.rob.models import Citizen, DataProvisionRequest, DocumentKind, IdDocument

from .forms import ClerkLoginForm, DocumentSearchForm, FilingForm, NameSearchForm
from .services import is_clerk, office_name

LOGIN_URL = "govsim:czechpoint:login"


def clerk_required(view):
    """Clerks only: an anonymous visitor goes to the desk's sign-in, anybody else gets 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse(LOGIN_URL))
        if not is_clerk(request.user):
            return render(request, "czechpoint/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def needs_register(view):
    """The view reads or writes the register: while it is down, the register's 503 page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if is_down(System.ROB):
            return unavailable_page(request, System.ROB)
        return view(request, *args, **kwargs)

    return wrapped


@method_decorator(unless_down(System.CZECHPOINT, api=False), name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "czechpoint/login.html"
    authentication_form = ClerkLoginForm
    next_page = reverse_lazy("govsim:czechpoint:desk")


@unless_down(System.CZECHPOINT, api=False)
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth.logout(request)
    return redirect(LOGIN_URL)


@unless_down(System.CZECHPOINT, api=False)
@clerk_required
def desk(request: HttpRequest) -> HttpResponse:
    """Identify the citizen: by an identity document, or by name and birth date."""
    document_form = DocumentSearchForm(prefix="doc")
    name_form = NameSearchForm(prefix="name")
    context: dict = {"searched": None, "matches": None, "refusal": None}
    if request.method == "POST":
        # Searching reads the register.
        if is_down(System.ROB):
            return unavailable_page(request, System.ROB)
        if request.POST.get("by") == "document":
            document_form = DocumentSearchForm(request.POST, prefix="doc")
            if document_form.is_valid():
                found = rob.find_by_document(**document_form.cleaned_data)
                refusal = _document_refusal(found)
                if found is None:
                    document_form.add_error(
                        "number", _("No document of this kind and number is in the register.")
                    )
                elif refusal:
                    context["refusal"] = refusal
                else:
                    return redirect(_filing_url(found.citizen, found))
        elif request.POST.get("by") == "name":
            name_form = NameSearchForm(request.POST, prefix="name")
            if name_form.is_valid():
                context["searched"] = "name"
                context["matches"] = rob.find_by_name(**name_form.cleaned_data)
    context.update(document_form=document_form, name_form=name_form)
    return render(request, "czechpoint/desk.html", context)


def _document_refusal(document: IdDocument | None) -> str | None:
    if document is None:
        return None
    if document.citizen.deceased:
        return _("The register records this person as deceased: the request cannot be filed.")
    if document.valid_until and document.valid_until < timezone.localdate():
        return _("This document expired on %(date)s; the citizen cannot be identified by it.") % {
            "date": date_format(document.valid_until)
        }
    return None


def _filing_url(citizen: Citizen, document: IdDocument | None) -> str:
    url = reverse("govsim:czechpoint:file", args=[citizen.identifier])
    return f"{url}?document={document.pk}" if document else url


@unless_down(System.CZECHPOINT, api=False)
@clerk_required
@needs_register
def file_request(request: HttpRequest, identifier) -> HttpResponse:
    """File the request for the identified citizen (and the document that identified them)."""
    citizen = get_object_or_404(Citizen, identifier=identifier)
    document = None
    document_id = request.GET.get("document", "")
    if document_id:
        # ASCII digits only: str.isdigit() also takes "²" (which int() refuses) and other
        # scripts' digits (which int() would read); and no longer than a database id, so that
        # int() never meets its limit on the length of a string.
        if not (document_id.isascii() and document_id.isdigit() and len(document_id) <= 18):
            raise Http404
        document = get_object_or_404(IdDocument, pk=int(document_id), citizen=citizen)
    foreigner = document is not None and document.kind == DocumentKind.RESIDENCE_CERTIFICATE
    context = {"citizen": citizen, "document": document, "foreigner": foreigner}
    refusal = _document_refusal(document) or (
        _("The register records this person as deceased: the request cannot be filed.")
        if citizen.deceased
        else None
    )
    if refusal:
        return render(request, "czechpoint/file.html", {**context, "refusal": refusal})

    form = FilingForm(request.POST or None, foreigner=foreigner)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        provision, _created = rob.file_provision(
            recipient=data["recipient"],
            request_code=data["request_code"],
            citizen=citizen,
            clerk=request.user,
            office=office_name(),
            document=document,
            stated_first_names=data.get("stated_first_names", ""),
            stated_last_name=data.get("stated_last_name", ""),
            stated_birth_date=data.get("stated_birth_date"),
        )
        return redirect("govsim:czechpoint:receipt", pk=provision.pk)
    return render(request, "czechpoint/file.html", {**context, "form": form})


@unless_down(System.CZECHPOINT, api=False)
@clerk_required
@needs_register
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    """The receipt of a filed request, for the clerk to print and hand to the citizen."""
    provision = get_object_or_404(
        DataProvisionRequest.objects.select_related("citizen", "recipient", "clerk", "document"),
        pk=pk,
    )
    return render(request, "czechpoint/receipt.html", {"provision": provision})
