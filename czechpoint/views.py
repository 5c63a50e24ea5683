"""The Czech POINT desk: a clerk identifies a citizen and files "Data provision from the Register
of inhabitants to another person" with the recipient's request code, then prints a receipt.

Views are thin: the register's services find citizens and file the request. The clerk is one of
the simulator's own people (`govsim.models.StaffMember` with the clerk's role), signed in on the
desk's page through `govsim.services` — never a portal account, and signing in here does not sign
the browser into the portal. Every page answers 503 while the switch "czechpoint" is down;
identifying and filing also need the register, so they answer the register's 503 page while
"rob" is down.
"""

from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from govsim import services as staff
from govsim.forms import SignInForm
from govsim.models import System
from govsim.outage import is_down, unavailable_page, unless_down
from govsim.rob import services as rob
from govsim.rob.models import Citizen, DataProvisionRequest, DocumentKind, IdDocument
from govsim.signin import login_redirect, next_page

from .forms import DocumentSearchForm, FilingForm, NameSearchForm

LOGIN_URL = "govsim:czechpoint:login"


def clerk_required(view):
    """Clerks only: a visitor nobody signed in at the desk goes to the desk's sign-in, another of
    the simulator's people (an operator who is no clerk) gets 403. The clerk is `request.clerk`.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        member = staff.signed_in_staff(request)
        if member is None:
            return login_redirect(request, reverse(LOGIN_URL))
        if not member.is_clerk:
            return render(request, "czechpoint/forbidden.html", {"member": member}, status=403)
        request.clerk = member
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


@unless_down(System.CZECHPOINT, api=False)
@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """The clerk's sign-in; then on to `next` (on this site) or the desk."""
    next_url = next_page(request, default=reverse("govsim:czechpoint:desk"))
    form = SignInForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        clerk = (
            staff.authenticate_clerk(form.cleaned_data["username"], form.cleaned_data["password"])
            if form.is_valid()
            else None
        )
        if clerk is not None:
            staff.sign_in(request, clerk)
            return redirect(next_url)
        # One message for an unknown user, a wrong password, a person who is no clerk and too
        # many attempts alike.
        form.add_error(
            None,
            _(
                "Wrong username or password, or too many attempts. Check them and try again "
                "in a moment."
            ),
        )
    return render(request, "czechpoint/login.html", {"form": form, "next": next_url})


@unless_down(System.CZECHPOINT, api=False)
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Sign the clerk out of the simulator (a portal sign-in in the same browser stays)."""
    staff.sign_out(request)
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
            clerk=request.clerk,
            office=request.clerk.office,
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
