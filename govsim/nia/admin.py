"""The simulated NIA in the simulator's admin: services (with their API keys), the identity
means registered with NIA, and the pseudonyms it gave out."""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from govsim.admin import SimulatorModelAdmin, site
from govsim.api import key_hash, new_api_key

from .idp import metadata_problems
from .models import IdentityMeans, Pseudonym, ServiceProvider


class ServiceProviderForm(forms.ModelForm):
    class Meta:
        model = ServiceProvider
        fields = ["name", "entity_id", "metadata_xml", "encrypt_assertions", "active"]
        widgets = {"metadata_xml": forms.Textarea(attrs={"rows": 16, "cols": 100})}

    def clean(self):
        cleaned = super().clean()
        xml, entity_id = cleaned.get("metadata_xml"), cleaned.get("entity_id")
        if xml and entity_id:
            problems = metadata_problems(
                xml, entity_id, need_certificate=bool(cleaned.get("encrypt_assertions"))
            )
            if problems:
                raise forms.ValidationError(
                    _("The metadata cannot be used: %(problems)s"),
                    params={"problems": "; ".join(problems)},
                )
        return cleaned


@admin.register(ServiceProvider, site=site)
class ServiceProviderAdmin(SimulatorModelAdmin):
    form = ServiceProviderForm
    list_display = ["name", "entity_id", "encrypt_assertions", "active", "has_api_key"]
    search_fields = ["name", "entity_id"]
    readonly_fields = ["has_api_key", "created_at", "updated_at"]
    actions = ["generate_api_key"]

    @admin.display(boolean=True, description=_("API key"))
    def has_api_key(self, service: ServiceProvider) -> bool:
        return bool(service.api_key_hash)

    @admin.action(description=_("Generate a new API key (replaces the old one)"))
    def generate_api_key(self, request: HttpRequest, queryset: QuerySet) -> None:
        for service in queryset:
            key = new_api_key()
            service.api_key_hash = key_hash(key)
            service.save(update_fields=["api_key_hash", "updated_at"])
            # Only the hash is stored: this message is the one time the key can be read.
            messages.warning(
                request,
                _("New API key of %(name)s (shown only now): %(key)s")
                % {"name": service.name, "key": key},
            )


@admin.register(IdentityMeans, site=site)
class IdentityMeansAdmin(SimulatorModelAdmin):
    list_display = ["means_id", "kind", "level", "citizen", "service_provider", "registered_at"]
    list_filter = ["kind", "level", "service_provider"]
    search_fields = ["means_id", "person", "citizen__last_name"]
    readonly_fields = [
        "service_provider",
        "citizen",
        "person",
        "means_id",
        "kind",
        "level",
        "registered_at",
    ]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # registered by providers through the API only


@admin.register(Pseudonym, site=site)
class PseudonymAdmin(SimulatorModelAdmin):
    list_display = ["value", "citizen", "service_provider", "first_issued_at", "last_issued_at"]
    list_filter = ["service_provider"]
    search_fields = ["value", "citizen__last_name"]
    readonly_fields = ["service_provider", "citizen", "value", "first_issued_at", "last_issued_at"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
