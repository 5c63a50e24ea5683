"""The Django admin as the helpdesk sees it: accounts with their profile, the audit log, the outbox.

Changes go through the account services, so they are audited like the user's own: identity fields
through `update_profile` (which also enforces the profile lock), passwords through
`change_password` (which e-mails the user). Contacts are read-only here: a new e-mail or phone must
be proved with a code by the user.
"""

from django.contrib import admin
from django.contrib.admin.utils import display_for_value
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from accounts.models import LOCKED_FIELDS, AuditEvent, Profile, User
from accounts.services.profile import update_profile
from accounts.services.security import password_was_set
from mojeid.models import OutboxMessage
from twofactor.models import AuthenticatorModel, MetadataLoad, SecurityKey

admin.site.site_header = _("MojeID helpdesk")
admin.site.site_title = _("MojeID helpdesk")
admin.site.index_title = _("Administration")


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    min_num = 1
    max_num = 1
    fields = [
        *LOCKED_FIELDS,
        "email",
        "email_confirmed_at",
        "phone",
        "phone_confirmed_at",
        "locked_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:  # a new account: staff type its contacts, there is no one to prove them yet
            return ["email_confirmed_at", "phone_confirmed_at", "locked_at"]
        readonly = ["email", "email_confirmed_at", "phone", "phone_confirmed_at", "locked_at"]
        if obj is not None and hasattr(obj, "profile") and obj.profile.is_locked:
            readonly += list(LOCKED_FIELDS)
        return readonly


class PortalUserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username",)


class PortalUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    form = PortalUserChangeForm
    add_form = PortalUserCreationForm
    inlines = [ProfileInline]
    list_display = ["username", "full_name", "email", "contacts_confirmed", "locked", "is_staff"]
    list_filter = ["is_staff", "is_active", "profile__locked_at"]
    list_select_related = ["profile"]
    search_fields = ["username", "profile__email", "profile__last_name", "profile__phone"]
    ordering = ["username"]
    readonly_fields = ["last_sign_in", "date_joined"]
    fieldsets = [
        (None, {"fields": ["username", "password", "language"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Dates"), {"fields": ["last_sign_in", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["username", "usable_password", "password1", "password2"],
            },
        ),
    ]
    filter_horizontal = ["groups"]

    def save_formset(self, request, form, formset, change):
        if formset.model is not Profile or not change:
            return super().save_formset(request, form, formset, change)
        # What formset.save() would report, for the admin's own change history.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for profile_form in formset.forms:
            changes = {
                name: profile_form.cleaned_data[name]
                for name in profile_form.changed_data
                if name in LOCKED_FIELDS
            }
            if changes:
                update_profile(form.instance, changes, actor=request.user, request=request)
                formset.changed_objects.append((profile_form.instance, list(changes)))
        return None

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            # Django saved the new password; record who set it and tell the owner.
            user = self.get_object(request, id)
            password_was_set(user, actor=request.user, request=request)
        return response

    def has_delete_permission(self, request, obj=None) -> bool:
        # A locked profile belongs to the NIA link: unlink first (the database refuses otherwise).
        if obj is not None and hasattr(obj, "profile") and obj.profile.is_locked:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description=_("last sign-in"))
    def last_sign_in(self, user: User):
        """From the audit log, the one record of sign-ins (User.last_login is not kept)."""
        event = user.audit_events.filter(kind=AuditEvent.Kind.LOGIN).only("created_at").first()
        return display_for_value(event.created_at, "—") if event else "—"

    @admin.display(description=_("name"))
    def full_name(self, user: User) -> str:
        return f"{user.profile.first_name} {user.profile.last_name}"

    @admin.display(description=_("e-mail"))
    def email(self, user: User) -> str:
        return user.profile.email or "—"

    @admin.display(description=_("contacts confirmed"), boolean=True)
    def contacts_confirmed(self, user: User) -> bool:
        return user.profile.email_confirmed and user.profile.phone_confirmed

    @admin.display(description=_("locked"), boolean=True)
    def locked(self, user: User) -> bool:
        return user.profile.is_locked


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records nobody edits by hand: audit events and sent messages."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "user", "actor", "ip_address"]
    list_filter = ["kind"]
    search_fields = ["user__username", "actor__username", "ip_address"]
    date_hierarchy = "created_at"
    list_select_related = ["user", "actor"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "channel", "recipient", "subject", "sent_at", "attempts"]
    list_filter = ["channel", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["recipient", "subject"]
    # The bodies hold confirmation codes; the helpdesk sees that a message went, not its code.
    exclude = ["body"]


@admin.register(AuthenticatorModel)
class AuthenticatorModelAdmin(ReadOnlyAdmin):
    """The FIDO metadata as loaded: what support looks up when a key is "Unknown"."""

    list_display = ["description", "protocol_family", "certification_level", "trusted", "aaguid"]
    list_filter = ["protocol_family", "certification_level", "trusted", "source"]
    search_fields = ["description", "aaguid", "key_identifiers__key_identifier"]
    exclude = ["statement"]


@admin.register(MetadataLoad)
class MetadataLoadAdmin(ReadOnlyAdmin):
    list_display = ["source", "number", "next_update", "entries", "loaded_at"]


@admin.register(SecurityKey)
class SecurityKeyAdmin(ReadOnlyAdmin):
    """Users' keys and what their attestation proved; changes are the user's own business."""

    list_display = [
        "user",
        "name",
        "description",
        "certification_level",
        "nia_eligible",
        "possibly_cloned",
        "last_used_at",
    ]
    list_filter = ["nia_eligible", "possibly_cloned", "key_type", "attestation_format"]
    search_fields = ["user__username", "name", "description", "aaguid"]
    list_select_related = ["user"]
    exclude = ["public_key", "attestation_object"]
