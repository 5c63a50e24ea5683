from django import template

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
