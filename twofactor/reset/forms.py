"""The form of the two-factor reset. It only checks the shape of the input: whether the answers
are right is for the service, which never says which one is wrong."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import PASSWORD_MAX_LENGTH, PasswordInput


class ResetForm(forms.Form):
    control_code = forms.CharField(
        label=_("Control code shown on this page"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )
    email_code = forms.CharField(
        label=_("Code from the e-mail (PIN1)"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    phone_code = forms.CharField(
        label=_("Code from the SMS (PIN2)"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=PasswordInput("current-password"),
    )
