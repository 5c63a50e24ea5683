"""Forms of the simulator's own people: the sign-in (data boxes, Czech POINT desk, the simulator's
admin) and a staff member as the simulator's admin edits them, password included."""

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from .models import StaffMember


class SignInForm(forms.Form):
    """Username and password; whether they are right is `govsim.signin`'s business."""

    username = forms.CharField(label=_("Username"), max_length=64)
    password = forms.CharField(
        label=_("Password"), max_length=1024, strip=False, widget=forms.PasswordInput
    )


class StaffMemberForm(forms.ModelForm):
    """A staff member with an optional new password, typed twice and checked like the portal's
    passwords; the stored hash itself is never shown or edited."""

    new_password1 = forms.CharField(
        label=_("New password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Leave empty to keep the current password. A new password ends the person's "
            "sessions in the simulator."
        ),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = StaffMember
        fields = ["username", "full_name", "is_clerk", "office", "is_operator", "is_active"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip().lower()
        taken = StaffMember.objects.filter(username__iexact=username)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("This username is taken."), code="unique")
        return username

    def clean(self) -> dict:
        cleaned = super().clean()
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if first or second:
            if first != second:
                self.add_error("new_password2", _("The two passwords differ."))
            else:
                # Checked against the person as edited (the username must not be the password).
                self.instance.username = cleaned.get("username", self.instance.username)
                try:
                    password_validation.validate_password(first, self.instance)
                except forms.ValidationError as error:
                    self.add_error("new_password1", error)
        elif not self.instance.pk:
            self.add_error("new_password1", _("A new person needs a password."))
        return cleaned

    def save(self, commit: bool = True) -> StaffMember:
        member = super().save(commit=False)
        if self.cleaned_data.get("new_password1"):
            member.set_password(self.cleaned_data["new_password1"])
        if commit:
            member.save()
        return member
