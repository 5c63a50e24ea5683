from django import template

from ..adapter import get_adapter
from ..eligibility import SUBSTANTIAL, key_eligible

register = template.Library()


@register.simple_tag
def security_keys(user):
    """The user's keys, for the Two-factor section of the settings page."""
    return list(user.security_keys.all()) if user.is_authenticated else []


@register.simple_tag
def klic_device(user):
    """The user's confirmed MojeID Klíč, or None."""
    if not user.is_authenticated:
        return None
    return user.klic_devices.filter(confirmed=True).first()


@register.simple_tag
def key_access(key) -> str:
    """The key's state for public administration services: "active" (registered with NIA),
    "suspended" / "ended" (by NIA, on its side), "get" (eligible, not registered yet) or
    "not_available"."""
    at_nia = get_adapter().key_state_at_nia(key)
    if at_nia:
        return at_nia
    return "get" if key_eligible(key, SUBSTANTIAL) else "not_available"


@register.simple_tag
def klic_removal_ends_link(device) -> bool:
    """Whether removing this MojeID Klíč would end the NIA link (the last one registered)."""
    return device is not None and get_adapter().removal_ends_link(klic_device=device)
