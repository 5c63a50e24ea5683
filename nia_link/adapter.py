"""The NIA link's side of the two-factor adapter (`twofactor.adapter`): what happens to the link
when the second factors change."""

from django.urls import reverse

from accounts.models import User
from twofactor.adapter import TwoFactorAdapter
from twofactor.exceptions import LinkedServiceUnavailable

from . import services
from .exceptions import NiaUnavailable
from .models import Link, LinkState, Registration, RegistrationState


class NiaLinkAdapter(TwoFactorAdapter):
    def ensure_linked_services_answer(
        self, user: User, *, security_key=None, klic_device=None
    ) -> None:
        """NIA must answer before the citizen removes a registered authenticator or resets their
        factors (the help page's messages when it does not)."""
        removing_one = security_key is not None or klic_device is not None
        message = services.CANNOT_DISABLE if removing_one else services.NOT_COMPLETED
        try:
            services.ensure_nia_answers(
                user, message, security_key=security_key, klic_device=klic_device
            )
        except NiaUnavailable as problem:
            raise LinkedServiceUnavailable(problem.message) from problem

    def factors_reset(
        self, user: User, *, actor: User | None, reason: str = "two_factor_reset"
    ) -> bool:
        """A two-factor reset ends the account's NIA link (the link rests on those factors)."""
        return services.cancel_link(user, reason=reason, actor=actor)

    def authenticator_removed(
        self, user: User, *, security_key=None, klic_device=None, actor: User | None
    ) -> bool:
        """Its registration with NIA ends; the last one ends the link."""
        return services.end_registration(
            user, security_key=security_key, klic_device=klic_device, actor=actor
        )

    def removal_ends_link(self, *, security_key=None, klic_device=None) -> bool:
        return services.last_registered(security_key=security_key, klic_device=klic_device)

    def key_state_at_nia(self, key) -> str | None:
        """Under the owner's active link: "active" when NIA confirmed the key, "suspended" or
        "ended" when NIA suspended or ended it on its side since; else None."""
        registration = (
            Registration.objects.filter(security_key=key, link__state=LinkState.ACTIVE)
            .order_by("-pk")
            .values("wanted", "at_nia")
            .first()
        )
        if registration is None:
            return None
        if registration["at_nia"] == RegistrationState.ENDED:
            # Ended by NIA (an EVPROST), not by the citizen: theirs are removed keys.
            return "ended"
        if registration["wanted"] != RegistrationState.ACTIVE:
            return None
        return {
            RegistrationState.ACTIVE: "active",
            RegistrationState.INACTIVE: "suspended",
        }.get(registration["at_nia"])

    def key_access_url(self, key) -> str | None:
        """Get: the page that verifies the identity again for this key, once the account has an
        active link; before, the request for access itself."""
        if not Link.objects.filter(user_id=key.user_id, state=LinkState.ACTIVE).exists():
            return reverse("nia_link:get_access")
        return reverse("nia_link:get_key", args=[key.pk])
