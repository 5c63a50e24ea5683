"""The sign-in form of the demo service: which level of assurance to ask NIA for."""

from django import forms
from django.utils.translation import gettext_lazy as _

from . import saml


class SignInForm(forms.Form):
    """The level to ask for; `level_uri` is the eIDAS URI of the choice."""

    level = forms.ChoiceField(
        label=_("Level of assurance"),
        choices=[
            ("substantial", _("Substantial (e.g. NIA ID with an SMS code, or more)")),
            ("high", _("High (e.g. eObčanka with its PIN)")),
        ],
        initial="substantial",
        widget=forms.RadioSelect,
    )

    @property
    def level_uri(self) -> str:
        return saml.LEVELS[self.cleaned_data["level"]]
