"""The Django admin as the helpdesk sees it: accounts with their profile, the audit log, the outbox.

The profile lock is not the admin's business: locked fields are shown read-only here for clarity,
and the model refuses a change to them whatever form submits it.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from accounts.models import LOCKED_FIELDS, AuditEvent, Profile, User
from mojeid.models import OutboxMessage

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
        readonly = ["email_confirmed_at", "phone_confirmed_at", "locked_at"]
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

    @admin.display(description=_("last sign-in"))
    def last_sign_in(self, user: User):
        """From the audit log, the one record of sign-ins (User.last_login is not kept)."""
        event = user.audit_events.filter(kind=AuditEvent.Kind.LOGIN).only("created_at").first()
        return event.created_at if event else "—"

    @admin.display(description=_("name"))
    def full_name(self, user: User) -> str:
        return f"{user.profile.first_name} {user.profile.last_name}"

    @admin.display(description=_("e-mail"))
    def email(self, user: User) -> str:
        return user.profile.email

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
