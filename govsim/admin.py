"""The simulator's own admin site (/sim/admin/ embedded, /admin/ standalone), apart from the
helpdesk's: simulated citizens, boxes and switches are not portal data, and its operators are
not portal accounts.

The site opens only for a signed-in operator of the simulator (`govsim.models.StaffMember`,
signed in on this site's own login page through `govsim.services`); the portal's `request.user`
plays no part in it. Every ModelAdmin and inline of the site is built on the bases below:

- permissions come from the operator's sign-in, not from the portal's users and permissions;
- what an operator changes is written to the simulator's own history (`AdminLogEntry`), never to
  Django's `LogEntry`, which points at the portal's user table;
- `adminguard` keeps each model's `SECRET_FIELDS` out of every filter, search and ordering.
"""

import json
from functools import update_wrapper

from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE, DELETION
from django.contrib.admin.options import get_content_type_for_model
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import PAGE_VAR
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.text import capfirst
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

import adminguard

from . import services
from .forms import SignInForm, StaffMemberForm
from .models import AdminLogEntry, Outage, StaffMember
from .signin import login_redirect, next_page

# One message for an unknown user, a wrong password, a person who is no operator and too many
# attempts alike (the same words as the data box system's and the desk's sign-in).
SIGN_IN_FAILED = _(
    "Wrong username or password, or too many attempts. Check them and try again in a moment."
)


class SimulatorAdminSite(admin.AdminSite):
    site_header = _("Simulated state systems")
    site_title = _("State systems simulator")
    index_title = _("Base register, data boxes, NIA, Czech POINT")
    # The index without Django's "Recent actions", which reads the portal's admin log.
    index_template = "admin/govsim/index.html"
    # The simulator is not a site of the portal's: no "View site" link to the portal.
    site_url = None

    def has_permission(self, request: HttpRequest) -> bool:
        """A signed-in, active operator of the simulator (never a portal account)."""
        return services.signed_in_operator(request) is not None

    def each_context(self, request: HttpRequest) -> dict:
        context = super().each_context(request)
        # The admin's templates greet `user`: the simulator's person, not the portal's account
        # (a value given here wins over the context processor's).
        context["user"] = services.signed_in_staff(request) or AnonymousUser()
        return context

    def admin_view(self, view, cacheable: bool = False):
        """Django's wrapper, but whoever may not enter goes to the sign-in through
        `login_redirect`, which leaves out an address too long to come back to."""
        guarded = super().admin_view(view, cacheable)

        def inner(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not self.has_permission(request):
                return login_redirect(request, reverse("admin:login", current_app=self.name))
            return guarded(request, *args, **kwargs)

        return update_wrapper(inner, guarded)

    @method_decorator(sensitive_post_parameters("password"))
    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """The operators' own sign-in page; then on to `next` (on this site) or the index."""
        index = reverse("admin:index", current_app=self.name)
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(index)
        next_url = next_page(request, default=index)
        form = SignInForm(request.POST if request.method == "POST" else None)
        if request.method == "POST":
            operator = (
                services.authenticate_operator(
                    form.cleaned_data["username"], form.cleaned_data["password"]
                )
                if form.is_valid()
                else None
            )
            if operator is not None:
                services.sign_in(request, operator)
                return HttpResponseRedirect(next_url)
            form.add_error(None, str(SIGN_IN_FAILED))
        signed_in = services.signed_in_staff(request)
        context = {
            **self.each_context(request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": signed_in.username if signed_in else "",
            "form": form,
            "next": next_url,
            **(extra_context or {}),
        }
        request.current_app = self.name
        return TemplateResponse(request, self.login_template or "admin/login.html", context)

    @method_decorator(never_cache)
    @method_decorator(require_POST)
    def logout(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Sign the operator out of the simulator (the portal's sign-in stays)."""
        services.sign_out(request)
        context = {
            **self.each_context(request),
            "title": _("Logged out"),
            "subtitle": None,
            **(extra_context or {}),
        }
        request.current_app = self.name
        return TemplateResponse(
            request, self.logout_template or "registration/logged_out.html", context
        )

    def password_change(self, request: HttpRequest, extra_context: dict | None = None):
        """An operator sets their own password on their own page, like anybody else's."""
        operator = services.signed_in_operator(request)
        return HttpResponseRedirect(
            reverse("admin:govsim_staffmember_change", args=[operator.pk], current_app=self.name)
        )

    def password_change_done(self, request: HttpRequest, extra_context: dict | None = None):
        return HttpResponseRedirect(reverse("admin:index", current_app=self.name))


site = SimulatorAdminSite(name="govsim_admin")


class ValidatedAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget, but a posted value that cannot be a key of the model (e.g.
    "x" for a number) is left out when an invalid form is shown again: Django would look it up
    and fail with a ValueError (a 500) instead of showing the form's own error."""

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        target = remote.model._meta.get_field(remote.field_name)
        usable = []
        for item in value:
            try:
                target.to_python(item)
            except ValidationError:
                continue
            usable.append(item)
        return super().optgroups(name, usable, attr)


class OperatorPermissions:
    """Whatever the site lets in may use the model: the site itself admits operators only, and a
    ModelAdmin that refuses more (read-only models) says so by overriding these. Autocomplete
    fields use `ValidatedAutocompleteSelect`."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = ValidatedAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.admin_site.has_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.admin_site.has_permission(request)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.admin_site.has_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.admin_site.has_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.admin_site.has_permission(request)


def _log(request: HttpRequest, objects, action_flag: int, message="") -> list[AdminLogEntry]:
    operator = services.signed_in_operator(request)
    if operator is None:  # the site admits nobody else; nothing to attribute otherwise
        raise PermissionDenied
    if isinstance(message, list):
        message = json.dumps(message)  # as Django's LogEntry keeps a structured message
    return AdminLogEntry.objects.bulk_create(
        [
            AdminLogEntry(
                staff_member=operator,
                content_type=get_content_type_for_model(obj),
                object_id=str(obj.pk),
                object_repr=str(obj)[:200],
                action_flag=action_flag,
                change_message=message,
            )
            for obj in objects
        ]
    )


class SimulatorModelAdmin(OperatorPermissions, adminguard.ModelAdmin):
    """The base of every ModelAdmin of the simulator's admin (see the module's docstring)."""

    def log_addition(self, request: HttpRequest, obj, message) -> AdminLogEntry:
        return _log(request, [obj], ADDITION, message)[0]

    def log_change(self, request: HttpRequest, obj, message) -> AdminLogEntry:
        return _log(request, [obj], CHANGE, message)[0]

    def log_deletion(self, request: HttpRequest, obj, object_repr) -> AdminLogEntry:
        return _log(request, [obj], DELETION)[0]

    def log_deletions(self, request: HttpRequest, queryset) -> list[AdminLogEntry]:
        return _log(request, list(queryset), DELETION)

    def history_view(self, request: HttpRequest, object_id: str, extra_context=None):
        """The object's history from the simulator's own log (as Django's history page)."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        entries = (
            AdminLogEntry.objects.filter(
                object_id=unquote(object_id), content_type=get_content_type_for_model(self.model)
            )
            .select_related("staff_member")
            .order_by("action_time", "pk")
        )
        paginator = self.get_paginator(request, entries, 100)
        page = paginator.get_page(request.GET.get(PAGE_VAR, 1))
        context = {
            **self.admin_site.each_context(request),
            "title": _gettext("Change history: %s") % obj,
            "subtitle": None,
            "action_list": page,
            "page_range": paginator.get_elided_page_range(page.number),
            "page_var": PAGE_VAR,
            "pagination_required": paginator.count > 100,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "object": obj,
            "opts": self.opts,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/object_history.html", context)


class SimulatorTabularInline(
    OperatorPermissions, adminguard.SecretFieldsAdmin, admin.TabularInline
):
    """The base of every inline of the simulator's admin."""


class ReadOnlyAdmin(SimulatorModelAdmin):
    """Records the simulated systems write themselves: shown, never added, changed or deleted."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Outage, site=site)
class OutageAdmin(SimulatorModelAdmin):
    list_display = ["system", "down", "note"]
    list_editable = ["down", "note"]


@admin.register(StaffMember, site=site)
class StaffMemberAdmin(SimulatorModelAdmin):
    """The simulator's people: clerks and operators, with a password set through the form."""

    form = StaffMemberForm
    list_display = [
        "username",
        "full_name",
        "is_clerk",
        "office",
        "is_operator",
        "is_active",
        "last_login",
    ]
    list_filter = ["is_clerk", "is_operator", "is_active"]
    search_fields = ["username", "full_name", "office"]
    readonly_fields = ["last_login", "created_at"]
    fieldsets = [
        (None, {"fields": ["username", "full_name", "is_active"]}),
        (_("Roles"), {"fields": ["is_clerk", "office", "is_operator"]}),
        (_("Password"), {"fields": ["new_password1", "new_password2"]}),
        (None, {"fields": ["last_login", "created_at"]}),
    ]

    def save_model(self, request: HttpRequest, obj: StaffMember, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        signed_in = services.signed_in_staff(request)
        if (
            signed_in is not None
            and signed_in.pk == obj.pk
            and "new_password1" in form.changed_data
        ):
            # A new password of one's own ends one's other sessions, not this one.
            services.keep_signed_in(request, obj)


@admin.register(AdminLogEntry, site=site)
class AdminLogEntryAdmin(ReadOnlyAdmin):
    list_display = ["action_time", "staff_member", "content_type", "object_repr", "action_flag"]
    list_filter = ["action_flag"]
    search_fields = ["object_repr", "staff_member__username"]
    list_select_related = ["staff_member", "content_type"]
    date_hierarchy = "action_time"
