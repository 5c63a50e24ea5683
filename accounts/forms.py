"""Forms of the account pages. They validate input; the services decide and write."""

from datetime import date
from types import SimpleNamespace

from django import forms
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import LOCKED_FIELDS, PROFILE_FIELDS, Profile, User
from .validators import (
    normalize_phone,
    normalize_postal_code,
    validate_name,
    validate_no_control_characters,
    validate_username,
)

PASSWORD_MAX_LENGTH = 1024
GENERIC_LOGIN_ERROR = _(
    "Wrong username or password, or too many attempts. Check them and try again in a moment."
)


class PasswordInput(forms.PasswordInput):
    def __init__(self, autocomplete: str):
        super().__init__(attrs={"autocomplete": autocomplete})


def _clean_email(value: str) -> str:
    validate_no_control_characters(value)
    return value.strip().lower()


def _validate_new_password(password: str, **attributes) -> None:
    password_validation.validate_password(password, SimpleNamespace(**attributes))


class RegistrationForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=30,
        help_text=_("3–30 characters: lowercase letters, digits, dot, hyphen and underscore."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    first_name = forms.CharField(label=_("First name"), max_length=100, validators=[validate_name])
    last_name = forms.CharField(label=_("Last name"), max_length=100, validators=[validate_name])
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        help_text=_("We will send a confirmation code (PIN1) to this address."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=30,
        help_text=_("We will send a confirmation code (PIN2) by SMS. E.g. +420 601 123 456."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=PasswordInput("new-password"),
        help_text=_("At least 10 characters; not a common password."),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=PasswordInput("new-password"),
    )

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip().lower()
        validate_username(username)
        if User.objects.filter(username=username).exists():
            raise ValidationError(_("This username is taken."))
        return username

    def clean_email(self) -> str:
        # Whether another account has the address is not said here (sign-in and the password
        # reset do not say it either): the registration service tells that account's owner.
        return _clean_email(self.cleaned_data["email"])

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords differ."))
        elif password1:
            try:
                _validate_new_password(
                    password1,
                    username=cleaned.get("username", ""),
                    first_name=cleaned.get("first_name", ""),
                    last_name=cleaned.get("last_name", ""),
                    email=cleaned.get("email", ""),
                )
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class LoginForm(forms.Form):
    login = forms.CharField(
        label=_("Username or e-mail"),
        max_length=254,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "autofocus": True}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=PasswordInput("current-password"),
    )

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.user = None
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        self.user = authenticate(
            self.request, username=cleaned["login"], password=cleaned["password"]
        )
        if self.user is None:
            raise ValidationError(GENERIC_LOGIN_ERROR, code="invalid_login")
        return cleaned


class PasswordForgottenForm(forms.Form):
    login = forms.CharField(
        label=_("Username or e-mail"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )


class ReauthenticationForm(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=PasswordInput("current-password"),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not code.isascii() or not code.isdigit():
            raise ValidationError(_("The code is made of digits only."))
        return code


class PasswordChangeForm(forms.Form):
    new_password1 = forms.CharField(
        label=_("New password"),
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=PasswordInput("new-password"),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=PasswordInput("new-password"),
    )

    def __init__(self, user: User, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("new_password1"), cleaned.get("new_password2")
        if password1 and password2 and password1 != password2:
            self.add_error("new_password2", _("The two passwords differ."))
        elif password1:
            profile = self.user.profile
            try:
                _validate_new_password(
                    password1,
                    username=self.user.username,
                    first_name=profile.first_name,
                    last_name=profile.last_name,
                    email=profile.email,
                )
            except ValidationError as error:
                self.add_error("new_password1", error)
        return cleaned


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label=_("New e-mail"), max_length=254)

    def clean_email(self) -> str:
        return _clean_email(self.cleaned_data["email"])


class PhoneChangeForm(forms.Form):
    phone = forms.CharField(label=_("New mobile phone"), max_length=30)

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])


class ProfileForm(forms.ModelForm):
    """The profile as the citizen edits it. On a locked profile the register's fields are shown
    read-only with the reason, and only the rest (the organisation) can be changed.

    A locked field that arrives anyway (a page opened before the lock, or a hand-made request)
    goes to the model, whose lock refuses a change with its "Locked" error; an unchanged value
    passes.
    """

    class Meta:
        model = Profile
        fields = list(PROFILE_FIELDS)
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locked_fields = (
            [name for name in LOCKED_FIELDS if name in self.fields]
            if self.instance.is_locked
            else []
        )
        if self.instance.organisation_locked:
            self.locked_fields.append("organisation")
        for name in self.locked_fields:
            field = self.fields[name]
            field.disabled = True
            field.help_text = _("From the base register of inhabitants, kept in sync with it.")
        if "organisation" in self.locked_fields:
            self.fields["organisation"].help_text = _(
                "Empty while you have access to public administration services."
            )

    def clean_birth_date(self):
        birth_date = self.cleaned_data.get("birth_date")
        if (
            "birth_date" not in self.locked_fields
            and birth_date
            and not date(1900, 1, 1) <= birth_date <= timezone.localdate()
        ):
            raise ValidationError(_("Enter a date of birth between 1900 and today."))
        return birth_date

    def clean(self):
        cleaned = super().clean()
        for name in self.locked_fields:
            # Browsers send no disabled field: one that came is checked against the lock.
            if self.add_prefix(name) in self.data:
                cleaned[name] = self._posted(name)
        if cleaned.get("postal_code") and cleaned.get("country") and not self.locked_fields:
            try:
                cleaned["postal_code"] = normalize_postal_code(
                    cleaned["postal_code"], cleaned["country"]
                )
            except ValidationError as error:
                self.add_error("postal_code", error)
        return cleaned

    def _posted(self, name: str):
        """What was posted for the disabled field `name`, as its type; unreadable input counts
        as a change (the model then refuses it)."""
        field = self.fields[name]
        raw = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
        try:
            return field.to_python(raw)
        except ValidationError:
            return raw
