"""The desk's forms: sign-in, the two ways to identify a citizen, and the request itself."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from govsim.rob.models import DocumentKind, Recipient

from . import request_code
from .services import is_clerk

# ISO (what a date picker sends) and the Czech ways of writing a date, whatever the page's
# language: the dates come from Czech documents.
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%d. %m. %Y"]


class ClerkLoginForm(AuthenticationForm):
    """Django's sign-in, for clerks only: a citizen's account is refused here and not signed in
    (the desk's login must not become a way into the portal past its second factor)."""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not is_clerk(user):
            raise ValidationError(
                _("This account may not use the Czech POINT desk."), code="not_a_clerk"
            )


class DocumentSearchForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document"), choices=DocumentKind.choices)
    number = forms.CharField(label=_("Document number"), max_length=40)

    def clean_number(self) -> str:
        return "".join(self.cleaned_data["number"].split())


class NameSearchForm(forms.Form):
    first_names = forms.CharField(
        label=_("First name(s)"),
        max_length=200,
        required=False,
        help_text=_("Optional: narrows the search."),
    )
    last_name = forms.CharField(label=_("Last name"), max_length=200)
    birth_date = forms.DateField(
        label=_("Birth date"),
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def _request_code_error(code: str) -> str | None:
    problem = request_code.problem(code)
    if problem == "length":
        return _("A request code has 12 characters (XXXX-XXXX-XXXX); this one has %(count)d.") % {
            "count": len(request_code.normalise(code))
        }
    if problem == "alphabet":
        return _(
            "A request code has only digits and the letters A–Z without I, L, O and U; "
            "check what was typed."
        )
    if problem == "check":
        return _(
            "The request code is mistyped: its last character does not match the others. "
            "Check it character by character."
        )
    return None


class FilingForm(forms.Form):
    """The request: the recipient, its request code, and for a foreigner identified by a
    residence certificate the name and birth date exactly as on the document."""

    request_code = forms.CharField(
        label=_("Request code"),
        max_length=200,
        help_text=_(
            "From the citizen's printed request: type the code (XXXX-XXXX-XXXX) "
            "or scan its QR code."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    recipient = forms.ModelChoiceField(label=_("Recipient"), queryset=Recipient.objects.none())

    def __init__(self, *args, foreigner: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        recipients = Recipient.objects.order_by("name")
        field = self.fields["recipient"]
        field.queryset = recipients
        only = list(recipients[:2])
        if len(only) == 1:
            # Normally the only recipient is the MojeID portal: nothing to choose.
            field.empty_label = None
            field.initial = only[0].pk
        if foreigner:
            self.fields["stated_first_names"] = forms.CharField(
                label=_("First name(s) as on the document"), max_length=200
            )
            self.fields["stated_last_name"] = forms.CharField(
                label=_("Last name as on the document"), max_length=200
            )
            self.fields["stated_birth_date"] = forms.DateField(
                label=_("Birth date as on the document"),
                input_formats=DATE_FORMATS,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )

    def clean_request_code(self) -> str:
        code = self.cleaned_data["request_code"]
        error = _request_code_error(code)
        if error:
            raise ValidationError(error, code="malformed")
        return request_code.canonical(code)
