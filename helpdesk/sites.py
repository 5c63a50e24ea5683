"""The helpdesk's admin site: staff only, and only in a session proved with a second factor.

The admin has no sign-in of its own: the portal's asks for the password and the security key or
MojeID Klíč. A staff member without a second factor is sent to set one up first (a phished staff
password alone must never open the admin), and a session that did not prove its factor is
refused. Changing one's own password goes through the portal's page, so it is re-authenticated,
rate-limited, audited and announced like any user's.
"""

from functools import update_wrapper

from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.reauth import is_safe_next

SET_UP_A_SECOND_FACTOR = _(
    "The helpdesk opens only to staff with a second factor. Add a security key or set up "
    "MojeID Klíč below, then open the helpdesk again."
)


def staff_with_second_factor(request: HttpRequest) -> bool:
    """Whether this session belongs to active staff who proved a second factor at sign-in."""
    user = request.user
    return bool(user.is_active and user.is_staff and user.is_verified())


class HelpdeskAdminSite(admin.AdminSite):
    site_header = _("MojeID helpdesk")
    site_title = _("MojeID helpdesk")
    index_title = _("Administration")

    def has_permission(self, request: HttpRequest) -> bool:
        return staff_with_second_factor(request)

    def admin_view(self, view, cacheable: bool = False):
        """Django's wrapper, except that whoever may not enter a page whose address cannot come
        back after sign-in (too long: Django would refuse the redirect) goes to `login` without
        it."""
        guarded = super().admin_view(view, cacheable)

        def inner(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not self.has_permission(request) and not is_safe_next(
                request, request.get_full_path()
            ):
                return redirect(reverse("admin:login", current_app=self.name))
            return guarded(request, *args, **kwargs)

        return update_wrapper(inner, guarded)

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """Where `admin_view` sends whoever may not enter: to the portal's sign-in, to set up a
        second factor, or away."""
        user = request.user
        next_url = request.GET.get("next", "")
        if not is_safe_next(request, next_url):
            next_url = reverse("admin:index")
        if not user.is_authenticated:
            return redirect_to_login(next_url, login_url=reverse("accounts:login"))
        if staff_with_second_factor(request):
            return redirect(next_url)
        if user.is_active and user.is_staff:
            # Signed in with the password alone: no factor yet (one that exists was proved,
            # or SecondFactorMiddleware would have ended this session).
            messages.info(request, SET_UP_A_SECOND_FACTOR)
            return redirect(reverse("accounts:settings") + "#two-factor")
        raise PermissionDenied

    def password_change(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        return redirect("accounts:change_password")

    def password_change_done(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        return redirect("accounts:settings")
