"""The data box system in the simulator's admin: boxes with their persons' access, persons (with
a password set here), and messages, which are read-only as in the real system."""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from govsim.admin import ReadOnlyAdmin, SimulatorModelAdmin, SimulatorTabularInline, site
from govsim.api import key_hash, new_api_key

from .models import BoxAccess, DataBox, Message, Person


class AccessInline(SimulatorTabularInline):
    model = BoxAccess
    extra = 1
    autocomplete_fields = ["person"]


class PersonAccessInline(SimulatorTabularInline):
    model = BoxAccess
    extra = 0
    autocomplete_fields = ["box"]
    verbose_name_plural = _("data boxes the person acts for")


@admin.register(DataBox, site=site)
class DataBoxAdmin(SimulatorModelAdmin):
    list_display = ["box_id", "box_type", "name", "ico", "is_active", "has_api_key"]
    list_filter = ["box_type", "is_active"]
    search_fields = ["box_id", "name", "ico"]
    readonly_fields = ["has_api_key", "created_at"]
    inlines = [AccessInline]
    actions = ["issue_api_key"]

    @admin.display(boolean=True, description=_("API key"))
    def has_api_key(self, box: DataBox) -> bool:
        return bool(box.api_key_hash)

    @admin.action(description=_("Issue a new API key (the old one stops working)"))
    def issue_api_key(self, request: HttpRequest, queryset: QuerySet) -> None:
        for box in queryset:
            raw = new_api_key()
            box.api_key_hash = key_hash(raw)
            box.save(update_fields=["api_key_hash"])
            # Shown once: only its hash is kept.
            self.message_user(
                request,
                _("New API key of the data box %(box)s: %(key)s") % {"box": box.box_id, "key": raw},
                messages.WARNING,
            )


class PersonForm(forms.ModelForm):
    """A person with an optional new password; the stored hash itself is never edited here."""

    new_password = forms.CharField(
        label=_("New password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current password."),
    )

    class Meta:
        model = Person
        fields = ["username", "first_names", "last_name", "birth_date", "citizen", "is_active"]

    def save(self, commit: bool = True) -> Person:
        person = super().save(commit=False)
        if self.cleaned_data.get("new_password"):
            person.set_password(self.cleaned_data["new_password"])
        elif not person.password:
            person.set_password(None)  # a new person without a password cannot sign in yet
        if commit:
            person.save()
        return person


@admin.register(Person, site=site)
class PersonAdmin(SimulatorModelAdmin):
    form = PersonForm
    list_display = ["username", "first_names", "last_name", "birth_date", "citizen", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["username", "first_names", "last_name"]
    raw_id_fields = ["citizen"]
    readonly_fields = ["last_login"]
    inlines = [PersonAccessInline]


@admin.register(Message, site=site)
class MessageAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "sent_at",
        "sender_box",
        "sender_box_type",
        "sender_person_name",
        "recipient_box",
        "subject",
    ]
    list_filter = ["sender_box_type", "identity_published"]
    search_fields = ["subject", "sender_box__box_id", "recipient_box__box_id", "sender_box_name"]
    list_select_related = ["sender_box", "recipient_box"]
    exclude = ["concept_token"]
