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
    def factors_reset(self, user: User, *, actor: User | None, wait_for_nia: bool = True) -> bool:
        """Every second factor of `user` is being removed, inside the caller's transaction.
        `wait_for_nia`: the citizen's own reset refuses while NIA is down; the helpdesk's
        (False) goes on and NIA is told later.

        Returns True when something the user must hear of ended with them (their NIA link), so
        that the e-mail can say so. Raises `twofactor.exceptions.LinkedServiceUnavailable` to
        refuse: the caller's transaction then changes nothing, and the user may try again.
        """
        return False

    def authenticator_removed(
        self, user: User, *, security_key=None, klic_device=None, actor: User | None
    ) -> bool:
        """A security key or the MojeID Klíč of `user` is being removed, inside the caller's
        transaction (before it is deleted). Returns True when the NIA link ended with it (the
        page and the e-mail say so). Raises `LinkedServiceUnavailable` to refuse: the caller's
        transaction then changes nothing."""
        return False

    def removal_ends_link(self, *, security_key=None, klic_device=None) -> bool:
        """Whether removing this authenticator would end the NIA link (the last one registered):
        the confirmation page says so before the user confirms."""
        return False

    def key_state_at_nia(self, key) -> str | None:
        """How NIA holds this security key under its owner's link: "active", "suspended" or
        "ended" (NIA suspended or ended it on its side), or None (not registered there)."""
        return None


@cache
def get_adapter() -> TwoFactorAdapter:
    return import_string(settings.TWOFACTOR_ADAPTER)()
