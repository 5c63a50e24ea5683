"""The simulated NIA in the simulator's admin: services (with their API keys), the pseudonyms it
gave out, the authenticators providers registered with it (which NIA's side may suspend, end or
reactivate here) and the providers' notifications."""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from govsim.admin import SimulatorModelAdmin, site
from govsim.api import key_hash, new_api_key

from . import backchannel
from .idp import metadata_problems
from .models import (
    AuthenticatorRegistration,
    ProviderNotification,
    Pseudonym,
    RegistrationState,
    ServiceProvider,
)


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


@admin.register(AuthenticatorRegistration, site=site)
class AuthenticatorRegistrationAdmin(SimulatorModelAdmin):
    """The authenticators providers registered (TR_EVIDENCE_VIP_ZAPIS). Only the provider
    registers and changes them; NIA's side suspends, ends or reactivates them with the actions
    here, and the provider learns of it from its notifications (EVPROST)."""

    list_display = [
        "identifier",
        "loa",
        "state",
        "citizen",
        "service_provider",
        "verified_by_document",
        "updated_at",
    ]
    list_filter = ["loa", "state", "service_provider"]
    list_select_related = ["citizen", "service_provider"]
    search_fields = ["identifier", "bsi", "citizen__last_name"]
    readonly_fields = [
        "service_provider",
        "citizen",
        "bsi",
        "identifier",
        "loa",
        "state",
        "verified_by_document",
        "document_kind",
        "last_message",
        "created_at",
        "updated_at",
    ]
    actions = ["suspend", "end", "reactivate"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # registered by providers through the back-channel only

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # The list's actions change them; a registration's own page only shows it.
        return obj is None and super().has_change_permission(request)

    def _set_state(self, request: HttpRequest, queryset: QuerySet, state: str) -> None:
        changed = [
            registration
            for registration in queryset.order_by("pk")
            if backchannel.change_by_nia(registration, state)
        ]
        for registration in changed:
            self.log_change(request, registration, [{"changed": {"fields": ["state"]}}])
        if changed:
            messages.success(
                request,
                ngettext(
                    "%(count)d registration changed; its provider is notified.",
                    "%(count)d registrations changed; their providers are notified.",
                    len(changed),
                )
                % {"count": len(changed)},
            )
        left = queryset.count() - len(changed)
        if left:
            messages.warning(
                request,
                ngettext(
                    "%(count)d registration left as it was: in that state already, or ended.",
                    "%(count)d registrations left as they were: in that state already, or ended.",
                    left,
                )
                % {"count": left},
            )

    @admin.action(
        description=_("Suspend (inactive), and notify the provider"), permissions=["change"]
    )
    def suspend(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_state(request, queryset, RegistrationState.INACTIVE)

    @admin.action(description=_("End (for good), and notify the provider"), permissions=["change"])
    def end(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_state(request, queryset, RegistrationState.ENDED)

    @admin.action(description=_("Reactivate, and notify the provider"), permissions=["change"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_state(request, queryset, RegistrationState.ACTIVE)


@admin.register(ProviderNotification, site=site)
class ProviderNotificationAdmin(SimulatorModelAdmin):
    """What each provider reads with TR_NOTIFIKACE_IDP: written by NIA, never changed."""

    list_display = [
        "id",
        "source",
        "bsi",
        "pseudonym_invalidated",
        "service_provider",
        "created_at",
    ]
    list_filter = ["source", "service_provider"]
    list_select_related = ["service_provider"]
    search_fields = ["bsi"]
    readonly_fields = [
        "service_provider",
        "bsi",
        "source",
        "reference_data",
        "pseudonym_invalidated",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


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
