"""The Django admin as the helpdesk sees it: accounts with their profile, the audit log, the outbox.

The site itself (`helpdesk.sites`) opens only to staff whose session proved a second factor.
Changes go through the account services and flows, so they are audited like the user's own:
identity fields through `update_profile` (which also enforces the profile lock), passwords through
`accounts.flows.set_password_for` (re-authenticated, rate-limited, audited with the staff member
as actor, e-mailed to the user). Contacts are read-only here: a new e-mail or phone must be proved
with a code by the user. Only superusers grant staff status, superuser status or groups. No admin
filters, searches or sorts on a secret (`adminguard`).

The security keys' changelist links to the attestation inspector: support pastes or uploads a
registration response (from a user's browser or a debugging tool) and sees what it proves, without
storing anything.

An operator sees an account's identity data only after verifying the caller (`caller`), and acts
for them only then (`actions`); a verified paper form is recorded by one staff member and decided
by a supervisor who did not record it (`reset_forms`). Supervisors see everything of the
helpdesk, the audit of staff included (`roles`).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value, unquote
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AdminUserCreationForm,
    UserChangeForm,
)
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

import adminguard
from accounts import flows as account_flows
from accounts import ratelimit
from accounts.audit import record
from accounts.models import LOCKED_FIELDS, PROFILE_FIELDS, AuditEvent, Profile, User
from accounts.reauth import raise_if_reauthentication_required
from accounts.services.profile import update_profile
from mojeid.models import OutboxMessage
from nia_link.models import Link, Unmatched
from twofactor.inspector import InspectionError, inspect, report, report_json
from twofactor.internal.attestation import Verdict
from twofactor.models import (
    AuthenticatorModel,
    CertificationLevel,
    KeyType,
    KlicDevice,
    MetadataLoad,
    SecurityKey,
)

from . import actions as helpdesk_actions
from . import caller, reset_forms
from .models import ResetForm, ResetFormState, VerifiedCall
from .roles import is_supervisor


class ProfileInline(adminguard.SecretFieldsAdmin, admin.StackedInline):
    model = Profile
    can_delete = False
    min_num = 1
    max_num = 1
    fields = [
        *PROFILE_FIELDS,
        "address_point_code",
        "email",
        "email_confirmed_at",
        "phone",
        "phone_confirmed_at",
        "locked_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:  # a new account: staff type its contacts, there is no one to prove them yet
            return ["address_point_code", "email_confirmed_at", "phone_confirmed_at", "locked_at"]
        readonly = [
            "address_point_code",
            "email",
            "email_confirmed_at",
            "phone",
            "phone_confirmed_at",
            "locked_at",
        ]
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


class StaffSetsPasswordForm(AdminPasswordChangeForm):
    """Staff set a new password; switching password sign-in off is not offered."""

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields.pop("usable_password", None)
        self.fields["password1"].required = self.fields["password2"].required = True


# Who may make whom staff or superuser, or put them into groups: superusers only.
PRIVILEGE_FIELDS = ["is_staff", "is_superuser", "groups"]


class VerifyCallerForm(forms.Form):
    """What the caller says, typed by the operator: never filled in from the profile."""

    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    birth_date = forms.DateField(label=_("Date of birth"), required=False)
    street = forms.CharField(label=_("Street and number"), max_length=200, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=10, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)


CALLER_DETAILS = {
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "birth_date": _("Date of birth"),
    "address": _("Permanent address"),
    "email": _("E-mail"),
    "phone": _("Phone"),
}


def _caller_rows(outcome) -> list[tuple[str, bool]]:
    if outcome is None or not outcome.matches:
        return []
    return [(label, outcome.matches[name]) for name, label in CALLER_DETAILS.items()]


@admin.register(User)
class PortalUserAdmin(adminguard.SecretFieldsAdmin, UserAdmin):
    form = PortalUserChangeForm
    add_form = PortalUserCreationForm
    change_password_form = StaffSetsPasswordForm
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
                if name in PROFILE_FIELDS
            }
            if changes:
                update_profile(form.instance, changes, actor=request.user, request=request)
                formset.changed_objects.append((profile_form.instance, list(changes)))
        return None

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and not account_flows.may_manage(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    # --- what an operator sees before and after verifying the caller --------------------------

    CALLER_FIELDS = ["masked_email", "masked_phone", "nia_access", "caller_check", "timeline"]

    def may_see_identity(self, request: HttpRequest, obj: User | None) -> bool:
        """A supervisor always; an operator only within their verified window for the account."""
        if obj is None or is_supervisor(request.user):
            return True
        return caller.verified_until(request.user, obj) is not None

    def get_inlines(self, request, obj=None):
        return [ProfileInline] if self.may_see_identity(request, obj) else []

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets.insert(1, (_("Caller"), {"fields": self.CALLER_FIELDS}))
        return fieldsets

    def get_list_display(self, request):
        if is_supervisor(request.user):
            return self.list_display
        return ["username", "masked_email", "masked_phone", "nia_access", "is_staff"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if request.method == "GET" and obj is not None and self.may_see_identity(request, obj):
            # Staff looking at a person's identity data is itself a fact of the account's story.
            record(
                AuditEvent.Kind.HELPDESK_VIEWED_IDENTITY,
                user=obj,
                actor=request.user,
                request=request,
            )
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("e-mail"))
    def masked_email(self, user: User) -> str:
        return caller.mask_email(user.profile.email)

    @admin.display(description=_("phone"))
    def masked_phone(self, user: User) -> str:
        return caller.mask_phone(user.profile.phone)

    @admin.display(description=_("access to public administration services"))
    def nia_access(self, user: User) -> str:
        link = Link.objects.filter(user=user).order_by("-created_at").first()
        return link.get_state_display() if link else "—"

    @admin.display(description=_("caller"))
    def caller_check(self, user: User) -> str:
        locked = caller.locked_until(user)
        alert = (
            format_html(
                ' <strong class="errornote" data-testid="caller-check-locked">{}</strong>',
                gettext("Too many failed attempts: verifying a caller is locked until %(until)s.")
                % {"until": localtime(locked).strftime("%H:%M")},
            )
            if locked
            else ""
        )
        return format_html(
            '<a class="button" href="{}">{}</a>{}',
            reverse("admin:accounts_user_verify_caller", args=[user.pk]),
            gettext("Verify caller"),
            alert,
        )

    @admin.display(description=_("audit"))
    def timeline(self, user: User) -> str:
        return format_html(
            '<a href="{}?user={}">{}</a>',
            reverse("admin:accounts_auditevent_changelist"),
            user.pk,
            gettext("Audit timeline"),
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/verify-caller/",
                self.admin_site.admin_view(self.verify_caller_view),
                name="accounts_user_verify_caller",
            ),
            path(
                "<path:object_id>/act/",
                self.admin_site.admin_view(self.act_view),
                name="accounts_user_act",
            ),
            *super().get_urls(),
        ]

    def verify_caller_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Verify caller: the six details the caller says, answered match / no match each."""
        account = self.get_object(request, unquote(object_id))
        if account is None or not request.user.has_perm("helpdesk.verify_caller"):
            raise PermissionDenied
        if not account_flows.may_manage(request.user, account):
            raise PermissionDenied
        form = VerifyCallerForm(request.POST or None)
        outcome = None
        if request.method == "POST" and form.is_valid():
            outcome = caller.check(
                request.user, account, caller.Answers(**form.cleaned_data), request=request
            )
            # Not shown again: on a match, what was typed is what is stored.
            form = VerifyCallerForm()
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Verify caller"),
            "opts": self.opts,
            "original": account,
            "form": form,
            "outcome": outcome,
            "rows": _caller_rows(outcome),
            "locked_until": caller.locked_until(account),
            "verified_until": caller.verified_until(request.user, account),
            "link": Link.objects.filter(user=account).order_by("-created_at").first(),
            "keys": list(account.security_keys.all()),
            "klic": KlicDevice.objects.filter(user=account, confirmed=True).first(),
            "email_confirmed": account.profile.email_confirmed,
        }
        return TemplateResponse(request, "admin/helpdesk/verify_caller.html", context)

    def act_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """One action for a verified caller (POST `action`, and `key` for a key's removal). A GET
        — where the re-authentication page resumes an action it did not replay — leads back to
        the caller's page, to choose the action again."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        account = self.get_object(request, unquote(object_id))
        if account is None or not request.user.has_perm("helpdesk.verify_caller"):
            raise PermissionDenied
        if not account_flows.may_manage(request.user, account):
            raise PermissionDenied
        back = redirect("admin:accounts_user_verify_caller", account.pk)
        if request.method == "GET":
            messages.info(request, gettext("Choose the action again."))
            return back
        chosen = request.POST.get("action", "")
        try:
            if chosen == "cancel_access":
                done = helpdesk_actions.cancel_access(request, account)
                said = gettext("Access to public administration services is cancelled.")
            elif chosen == "remove_key":
                key_id = request.POST.get("key", "")
                done = (
                    key_id.isdigit()
                    and len(key_id) < 12
                    and helpdesk_actions.remove_key(request, account, int(key_id))
                )
                said = gettext("The security key is removed.")
            elif chosen == "unblock_klic":
                done = helpdesk_actions.unblock_klic(request, account)
                said = gettext("MojeID Klíč is unblocked.")
            elif chosen == "password_reset":
                done = helpdesk_actions.send_password_reset(request, account)
                said = gettext("A password-reset link is sent to the confirmed e-mail.")
            else:
                messages.error(request, gettext("Choose an action."))
                return back
        except helpdesk_actions.CallerNotVerified:
            messages.error(request, gettext("Verify the caller first."))
            return back
        except ratelimit.RateLimited as error:
            messages.error(request, ratelimit.retry_message(error))
            return back
        if done:
            messages.success(request, said)
        else:
            messages.warning(request, gettext("Nothing to do: the account has nothing of that."))
        return back

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Looking needs no proof; changing an account (identity fields, status) does.
        if request.method == "POST":
            raise_if_reauthentication_required(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += self.CALLER_FIELDS
        if not request.user.is_superuser:
            readonly += PRIVILEGE_FIELDS
        return readonly

    def user_change_password(self, request, id, form_url=""):
        """Django's page, but a valid form goes through the portal's flow (re-authentication,
        rate limit, audit with the staff member as actor, e-mail to the user)."""
        user = self.get_object(request, unquote(id))
        if user is not None and not self.has_change_permission(request, user):
            raise PermissionDenied
        raise_if_reauthentication_required(request)
        if request.method == "POST" and user is not None:
            form = self.change_password_form(user, request.POST)
            if form.is_valid():
                try:
                    account_flows.set_password_for(request, user, form.cleaned_data["password1"])
                except ratelimit.RateLimited as error:
                    messages.error(request, ratelimit.retry_message(error))
                    return redirect(request.get_full_path())
                messages.success(request, gettext("Password changed successfully."))
                change_page = f"admin:{self.opts.app_label}_{self.opts.model_name}_change"
                return redirect(change_page, user.pk)
        # Showing the form, or showing it again with its errors: Django's own page.
        return super().user_change_password(request, id, form_url)

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


class ReadOnlyAdmin(adminguard.ModelAdmin):
    """Records nobody edits by hand: audit events and sent messages."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Who did what, from where: per account (`?user=<id>`, the account page links it), searched
    by username or address. The audit of staff accounts is the supervisors' only."""

    list_display = ["created_at", "kind", "user", "actor", "ip_address", "what"]
    list_filter = ["kind"]
    search_fields = ["user__username", "actor__username", "ip_address"]
    date_hierarchy = "created_at"
    list_select_related = ["user", "actor"]

    def get_queryset(self, request):
        events = super().get_queryset(request)
        if is_supervisor(request.user):
            return events
        return events.exclude(user__is_staff=True)

    @admin.display(description=_("details"))
    def what(self, event: AuditEvent) -> str:
        return ", ".join(f"{name}: {value}" for name, value in sorted(event.details.items()))[:300]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "channel",
        "recipient",
        "template",
        "subject",
        "sent_at",
        "attempts",
    ]
    list_filter = ["channel", "template", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["recipient", "subject"]
    # The bodies hold confirmation codes; the helpdesk sees that a message went, not its code.
    exclude = ["body"]

    # An operator sees where a message went masked, as on an account before a verified call:
    # the outbox must not read out the contacts a caller is checked against.
    def get_list_display(self, request):
        shown = super().get_list_display(request)
        if is_supervisor(request.user):
            return shown
        return [name if name != "recipient" else "masked_recipient" for name in shown]

    def get_exclude(self, request, obj=None):
        excluded = list(super().get_exclude(request, obj) or [])
        return excluded if is_supervisor(request.user) else [*excluded, "recipient"]

    def get_fields(self, request, obj=None):
        fields = [name for name in super().get_fields(request, obj) if name != "recipient"]
        return (
            [*fields, "recipient"] if is_supervisor(request.user) else [*fields, "masked_recipient"]
        )

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "masked_recipient"]

    @admin.display(description=_("recipient"))
    def masked_recipient(self, message: OutboxMessage) -> str:
        if message.channel == "sms":
            return caller.mask_phone(message.recipient)
        return caller.mask_email(message.recipient)


@admin.register(Unmatched)
class UnmatchedAdmin(ReadOnlyAdmin):
    """Czech POINT provisions and data-box messages that answered no open request, with what is
    known of them. Never matched by guess: the request code's check character already catches a
    single mistyped character at the desk."""

    list_display = ["received_at", "source", "external_id", "reason", "typed_code", "known"]
    list_filter = ["source", "reason"]
    date_hierarchy = "received_at"

    def get_list_display(self, request):
        return [*super().get_list_display(request), "account_of"]

    def changelist_view(self, request, extra_context=None):
        self._viewer = request.user  # for `account_of`, which Django calls without the request
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("account it may belong to"))
    def account_of(self, obj: Unmatched) -> str:
        """The account whose request (open, cancelled or expired) has the code as typed — to a
        supervisor, or to an operator within a verified call for that account."""
        link = (
            Link.objects.filter(request_code=obj.request_code).select_related("user").first()
            if obj.request_code
            else None
        )
        if link is None:
            return "—"
        viewer = getattr(self, "_viewer", None)
        if viewer is None or not (
            is_supervisor(viewer) or caller.verified_until(viewer, link.user) is not None
        ):
            return gettext("known; shown after a verified call")
        return link.user.username

    @admin.display(description=_("request code as typed"))
    def typed_code(self, obj: Unmatched) -> str:
        return obj.request_code or "—"

    @admin.display(description=_("what is known"))
    def known(self, obj: Unmatched) -> str:
        summary = obj.summary or {}
        parts = [
            summary.get("office"),
            summary.get("box") and f"{gettext('data box')} {summary['box']}",
            summary.get("box_type"),
            summary.get("filed_at") or summary.get("sent_at"),
        ]
        return ", ".join(str(part) for part in parts if part) or "—"


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


@admin.register(KlicDevice)
class KlicDeviceAdmin(ReadOnlyAdmin):
    """Users' MojeID Klíč apps. The PIN is never stored; its verifier hash is not shown either."""

    list_display = ["user", "name", "confirmed", "blocked_at", "failed_pins", "last_used_at"]
    list_filter = ["confirmed", ("blocked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "name", "device_id"]
    list_select_related = ["user"]
    exclude = ["public_key", "pin_verifier"]


MAX_INSPECTED_BYTES = 1024 * 1024  # a registration is a few kB; this only bounds the work


class InspectAttestationForm(forms.Form):
    """A registration response, pasted or uploaded; valid when the inspector could judge it."""

    text = forms.CharField(
        label=_("Registration response (JSON)"),
        required=False,
        max_length=MAX_INSPECTED_BYTES,
        widget=forms.Textarea(attrs={"rows": 16, "cols": 100, "spellcheck": "false"}),
        help_text=_(
            "The result of PublicKeyCredential.toJSON() after registration, or a debugging "
            'tool\'s export that holds it under "response" or "credential".'
        ),
    )
    upload = forms.FileField(
        label=_("Or a JSON file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
        help_text=_("At most 1 MiB."),
    )

    verdict: Verdict | None = None

    def clean_upload(self) -> str | None:
        """The uploaded file as text (None without a file)."""
        upload = self.cleaned_data.get("upload")
        if not upload:
            return None
        # Checked before reading, so an oversized file is never loaded into memory.
        if upload.size > MAX_INSPECTED_BYTES:
            raise forms.ValidationError(_("The file is larger than 1 MiB."), code="too_large")
        try:
            # utf-8-sig: editors on Windows save JSON with a byte order mark.
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("The file is not UTF-8 text."), code="not_utf8") from None

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        text, uploaded = cleaned.get("text"), cleaned.get("upload")
        if text and uploaded is not None:
            raise forms.ValidationError(
                _("Paste a registration response or choose a file, not both."), code="both"
            )
        if not text and uploaded is None:
            raise forms.ValidationError(
                _("Paste a registration response or choose a file."), code="empty"
            )
        source = "text" if text else "upload"
        try:
            self.verdict = inspect(text or uploaded)
        except InspectionError as problem:
            self.add_error(
                source,
                forms.ValidationError(
                    _("This registration response cannot be inspected: %(problem)s"),
                    code="uninspectable",
                    params={"problem": problem},
                ),
            )
        return cleaned


def _shown(fields: dict) -> dict:
    """The inspector's report with the labels of the user's key detail page."""
    level = fields["certification_level"]
    return {
        **fields,
        "key_type": dict(KeyType.choices).get(fields["key_type"], fields["key_type"]),
        "certification_level": dict(CertificationLevel.choices).get(level, level),
    }


@admin.register(SecurityKey)
class SecurityKeyAdmin(ReadOnlyAdmin):
    """Users' keys and what their attestation proved; changes are the user's own business."""

    change_list_template = "admin/twofactor/securitykey/change_list.html"
    inspect_template = "admin/twofactor/securitykey/inspect.html"

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

    def get_urls(self) -> list[URLPattern]:
        # Before the inherited patterns: their "<path:object_id>/" would swallow "inspect/".
        inspector = path(
            "inspect/",
            self.admin_site.admin_view(self.inspect_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_inspect",
        )
        return [inspector, *super().get_urls()]

    def has_inspect_permission(self, request: HttpRequest) -> bool:
        """Whoever may see users' keys may see what a key would prove (superusers have all)."""
        return request.user.has_perm(f"{self.opts.app_label}.view_{self.opts.model_name}")

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        extra_context = {
            **(extra_context or {}),
            "has_inspect_permission": self.has_inspect_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def inspect_view(self, request: HttpRequest) -> HttpResponse:
        """The attestation inspector; admin_view has checked staff sign-in and adds CSRF."""
        if not self.has_inspect_permission(request):
            raise PermissionDenied
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        # Bound on any POST, even an empty one: an empty submit must show its error.
        if request.method == "POST":
            form = InspectAttestationForm(request.POST, request.FILES)
            verdict = form.verdict if form.is_valid() else None
        else:
            form, verdict = InspectAttestationForm(), None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Inspect security key attestation"),
            "opts": self.opts,
            "form": form,
            # The table and the raw JSON come from one report, the command's own.
            "result": _shown(report(verdict)) if verdict else None,
            "report_json": report_json(verdict) if verdict else "",
        }
        return TemplateResponse(request, self.inspect_template, context)


# --- the verified paper form (login reset), four eyes --------------------------------------------

REFUSALS = {
    "empty": _("The scan is empty."),
    "too_large": _("The scan is larger than 10 MB."),
    "type": _("The scan must be a PDF, PNG or JPEG file."),
    "own": _("You recorded this form: another supervisor must decide it."),
    "decided": _("This form has been decided already."),
    "not_supervisor": _("Only a helpdesk supervisor decides a reset form."),
    "not_helpdesk": _("Only the helpdesk records reset forms."),
}


class ResetFormForm(forms.ModelForm):
    class Meta:
        model = ResetForm
        fields = ["account", "reference", "verified_on", "scan"]

    def clean_scan(self):
        scan = self.cleaned_data["scan"]
        try:
            reset_forms.scan_type(scan)
        except reset_forms.FormRefused as refused:
            raise forms.ValidationError(REFUSALS[refused.reason]) from None
        return scan


@admin.register(ResetForm)
class ResetFormAdmin(adminguard.ModelAdmin):
    """Record a received form (helpdesk); open it, view the scan and decide it (a supervisor who
    did not record it)."""

    form = ResetFormForm
    raw_id_fields = ["account"]
    list_display = ["recorded_at", "account", "reference", "state", "recorded_by", "decided_by"]
    list_filter = ["state"]
    list_select_related = ["account", "recorded_by", "decided_by"]
    readonly_fields = [
        "account",
        "reference",
        "verified_on",
        "scan_link",
        "state",
        "recorded_by",
        "recorded_at",
        "decided_by",
        "decided_at",
        "note",
    ]
    change_form_template = "admin/helpdesk/resetform_change_form.html"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["account", "reference", "verified_on", "scan"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # decided through `decide_view`, never edited

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the case keeps the whole story

    def save_model(self, request, obj, form, change):
        created = reset_forms.record_form(
            request,
            form.cleaned_data["account"],
            reference=form.cleaned_data["reference"],
            verified_on=form.cleaned_data["verified_on"],
            scan=form.cleaned_data["scan"],
        )
        obj.pk = created.pk

    @admin.display(description=_("scan"))
    def scan_link(self, obj: ResetForm) -> str:
        return format_html(
            '<a href="{}">{}</a> ({})',
            reverse("admin:helpdesk_resetform_scan", args=[obj.pk]),
            gettext("View the scan"),
            obj.scan_type,
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/scan/",
                self.admin_site.admin_view(self.scan_view),
                name="helpdesk_resetform_scan",
            ),
            path(
                "<path:object_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="helpdesk_resetform_decide",
            ),
            *super().get_urls(),
        ]

    def scan_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The scan, to a supervisor only; never cached, never sniffed as another type."""
        form = self.get_object(request, unquote(object_id))
        if form is None or not request.user.has_perm("helpdesk.decide_resetform"):
            raise PermissionDenied
        try:
            scan = form.scan.open("rb")
        except OSError:  # lost from the disk: say so, not a 500
            raise Http404(gettext("The scan of this form is missing.")) from None
        response = FileResponse(scan, content_type=form.scan_type)
        response["Content-Disposition"] = "inline"
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "no-store"
        return response

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Approve (the login reset runs) or reject; a supervisor who did not record it."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        form = self.get_object(request, unquote(object_id))
        if form is None or not request.user.has_perm("helpdesk.decide_resetform"):
            raise PermissionDenied
        decision = request.POST.get("decision")
        if decision not in ("approve", "reject"):
            messages.error(request, gettext("Choose an action."))
        else:
            try:
                reset_forms.decide(
                    request,
                    form,
                    approve=decision == "approve",
                    note=request.POST.get("note", "")[:500],
                )
            except reset_forms.FormRefused as refused:
                messages.error(request, REFUSALS[refused.reason])
            else:
                messages.success(
                    request,
                    gettext("Approved: the login is reset and the user is told.")
                    if decision == "approve"
                    else gettext("Rejected."),
                )
        return redirect("admin:helpdesk_resetform_change", form.pk)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["may_decide"] = (
            obj is not None
            and obj.state == ResetFormState.WAITING
            and request.user.has_perm("helpdesk.decide_resetform")
            and obj.recorded_by_id != request.user.pk
        )
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Link)
class LinkAdmin(ReadOnlyAdmin):
    """Requests for access waiting for a match (filed, verified), failed and ended ones: who filed
    them by username only (the identity is on the account's page after a verified call)."""

    list_display = ["created_at", "account", "state", "route", "level", "end_reason"]
    list_filter = ["state", "route", "level"]
    search_fields = ["user__username"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    fields = [
        "account",
        "state",
        "route",
        "level",
        "created_at",
        "verified_at",
        "activated_at",
        "ended_at",
        "end_reason",
    ]
    readonly_fields = fields

    @admin.display(description=_("account"))
    def account(self, link: Link) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:accounts_user_change", args=[link.user_id]),
            link.user.username,
        )


@admin.register(VerifiedCall)
class VerifiedCallAdmin(ReadOnlyAdmin):
    """Which operator verified which caller, and until when: the supervisors' view of staff."""

    list_display = ["verified_at", "operator", "account", "until"]
    date_hierarchy = "verified_at"
    list_select_related = ["operator", "account"]
    search_fields = ["operator__username", "account__username"]
