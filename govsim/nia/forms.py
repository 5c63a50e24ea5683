"""Forms of the simulated NIA's login pages."""

from django import forms
from django.utils.translation import gettext_lazy as _


class EobcankaForm(forms.Form):
    """The card in the (simulated) reader and its identification PIN."""

    card_number = forms.CharField(
        label=_("eObčanka number"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "list": "demo-cards", "spellcheck": "false"}
        ),
    )
    pin = forms.CharField(
        label=_("Identification PIN"),
        max_length=32,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
