"""What the second factors tell the apps above them, through an adapter those apps implement.

`twofactor` may not import `nia_link` (imports point down only), yet removing every factor must
end the account's NIA link. So the two-factor code calls this adapter, and
`settings.TWOFACTOR_ADAPTER` names the implementation (the NIA link's,
`nia_link.adapter.NiaLinkAdapter`). The base class does nothing, which is right for a portal
without an NIA link.
"""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from accounts.models import User


class TwoFactorAdapter:
    def ensure_linked_services_answer(
        self, user: User, *, security_key=None, klic_device=None
    ) -> None:
        """Before the user removes an authenticator (`security_key`/`klic_device`) or resets
        every factor (neither): raise `twofactor.exceptions.LinkedServiceUnavailable` (with the
        service's words) when a service above that must hear of it (NIA) cannot be reached, so
        that nothing is changed. Called by the flows outside any transaction."""

    def factors_reset(
        self, user: User, *, actor: User | None, reason: str = "two_factor_reset"
    ) -> bool:
        """Every second factor of `user` is being removed, inside the caller's transaction.

        Returns True when something the user must hear of ended with them (their NIA link), so
        that the e-mail can say so. `reason` tells the citizen's own reset from the helpdesk's
        login reset, for the audit.
        """
        return False

    def authenticator_removed(
        self, user: User, *, security_key=None, klic_device=None, actor: User | None
    ) -> bool:
        """A security key or the MojeID Klíč of `user` is being removed, inside the caller's
        transaction (before it is deleted). Returns True when the NIA link ended with it (the
        page and the e-mail say so)."""
        return False

    def removal_ends_link(self, *, security_key=None, klic_device=None) -> bool:
        """Whether removing this authenticator would end the NIA link (the last one registered):
        the confirmation page says so before the user confirms."""
        return False

    def key_state_at_nia(self, key) -> str | None:
        """How NIA holds this security key under its owner's link: "active", "suspended" or
        "ended" (NIA suspended or ended it on its side), or None (not registered there)."""
        return None

    def key_access_url(self, key) -> str | None:
        """Where "Get" for this key leads (the linked service's page), or None for the key's
        own page."""
        return None


@cache
def get_adapter() -> TwoFactorAdapter:
    return import_string(settings.TWOFACTOR_ADAPTER)()
