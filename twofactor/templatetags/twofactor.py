from django import template
from django.urls import reverse

from .. import services
from ..adapter import get_adapter

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
    """The key's state for public administration services (`services.key_access`)."""
    return services.key_access(key)


@register.simple_tag
def key_access_url(key) -> str:
    """Where the key list's Get (or Not available) leads: the linked service's page for the key,
    else the key's own page."""
    return get_adapter().key_access_url(key) or reverse("twofactor:key_detail", args=[key.pk])


@register.simple_tag
def klic_removal_ends_link(device) -> bool:
    """Whether removing this MojeID Klíč would end the NIA link (the last one registered)."""
    return device is not None and get_adapter().removal_ends_link(klic_device=device)
