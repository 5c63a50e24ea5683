"""The desk's forms: the two ways to identify a citizen, and the request itself. The clerk signs
in with the simulator's own sign-in form (`govsim.forms.SignInForm`)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from govsim.rob.models import DocumentKind, Recipient

from . import request_code

# ISO (what a date picker sends) and the Czech ways of writing a date, whatever the page's
# language: the dates come from Czech documents.
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%d. %m. %Y"]


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
