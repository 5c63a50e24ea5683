"""The register in the simulator's admin: citizens (with documents), recipients, provisions.

Saving a citizen goes through `services.update_citizen`, so that the recipients' change feed
learns about it in the same transaction (the admin's change form runs in one). Data-provision
requests are filed at the Czech POINT desk only and are read-only here, as are the changes.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from govsim.admin import ReadOnlyAdmin, SimulatorModelAdmin, SimulatorTabularInline, site

from . import services
from .models import Citizen, CitizenChange, DataProvisionRequest, IdDocument, Recipient

# Where save_model leaves the change it recorded, for save_related to add "documents" to it.
_RECORDED_CHANGE = "_rob_recorded_change"


class IdDocumentForm(forms.ModelForm):
    new_card_pin = forms.CharField(
        label=_("new card PIN"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("eObčanka only. Leave empty to keep the current PIN."),
    )

    class Meta:
        model = IdDocument
        fields = ["kind", "number", "valid_until", "nia_activated"]

    def clean_new_card_pin(self) -> str:
        pin = self.cleaned_data["new_card_pin"]
        if pin and not (pin.isdigit() and 4 <= len(pin) <= 8):
            raise ValidationError(_("A card PIN has 4 to 8 digits."))
        return pin

    def save(self, commit: bool = True) -> IdDocument:
        document = super().save(commit=False)
        if self.cleaned_data.get("new_card_pin"):
            document.card_pin = make_password(self.cleaned_data["new_card_pin"])
        if commit:
            document.save()
        return document

    def has_changed(self) -> bool:
        # A new PIN is a change even though no stored field of the form differs.
        return super().has_changed() or bool(self.data.get(self.add_prefix("new_card_pin")))


class IdDocumentInline(SimulatorTabularInline):
    model = IdDocument
    form = IdDocumentForm
    extra = 0


class CitizenForm(forms.ModelForm):
    class Meta:
        model = Citizen
        fields = [*services.TRACKED_FIELDS]

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("death_date") and not cleaned.get("deceased"):
            self.add_error("deceased", _("A citizen with a date of death is deceased."))
        return cleaned


@admin.register(Citizen, site=site)
class CitizenAdmin(SimulatorModelAdmin):
    form = CitizenForm
    inlines = [IdDocumentInline]
    list_display = ["last_name", "first_names", "birth_date", "municipality", "deceased"]
    list_filter = ["residence_type", "deceased", "citizenship"]
    search_fields = ["last_name", "first_names", "documents__number", "identifier"]
    readonly_fields = ["identifier"]
    fieldsets = [
        (None, {"fields": ["identifier", "first_names", "last_name", "birth_date", "birth_place"]}),
        (_("Residence"), {"fields": ["citizenship", "residence_type"]}),
        (
            _("Address"),
            {
                "fields": [
                    "street",
                    "house_number",
                    "orientation_number",
                    "municipality_part",
                    "municipality",
                    "postal_code",
                    "address_point_code",
                ]
            },
        ),
        (None, {"fields": ["data_box_id", "deceased", "death_date"]}),
    ]

    def save_model(self, request: HttpRequest, obj: Citizen, form, change: bool) -> None:
        setattr(form, _RECORDED_CHANGE, services.update_citizen(obj))

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if change and any(formset.has_changed() for formset in formsets):
            services.record_documents_changed(
                form.instance, into=getattr(form, _RECORDED_CHANGE, None)
            )


@admin.register(Recipient, site=site)
class RecipientAdmin(SimulatorModelAdmin):
    list_display = ["name", "code"]
    fields = ["name", "code"]
    actions = ["issue_new_key"]

    def save_model(self, request: HttpRequest, obj: Recipient, form, change: bool) -> None:
        raw_key = services.new_recipient_key(obj) if not change else None
        super().save_model(request, obj, form, change)
        if raw_key:
            self._show_key(request, obj, raw_key)

    @admin.action(description=_("Issue a new API key (the old one stops working)"))
    def issue_new_key(self, request: HttpRequest, queryset) -> None:
        for recipient in queryset:
            raw_key = services.new_recipient_key(recipient)
            recipient.save(update_fields=["api_key_hash"])
            self._show_key(request, recipient, raw_key)

    def _show_key(self, request: HttpRequest, recipient: Recipient, raw_key: str) -> None:
        messages.warning(
            request,
            gettext("The API key of %(name)s is %(key)s — copy it now, it is not shown again.")
            % {"name": recipient.name, "key": raw_key},
        )


@admin.register(DataProvisionRequest, site=site)
class DataProvisionRequestAdmin(ReadOnlyAdmin):
    list_display = ["request_code", "citizen", "recipient", "created_at", "office", "clerk"]
    list_filter = ["recipient"]
    search_fields = ["request_code", "citizen__last_name"]
    list_select_related = ["citizen", "recipient", "clerk"]


@admin.register(CitizenChange, site=site)
class CitizenChangeAdmin(ReadOnlyAdmin):
    list_display = ["id", "citizen", "changed_at", "fields"]
    list_select_related = ["citizen"]
