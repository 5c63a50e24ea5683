from django import template

from ..internal.eligibility import MESSAGES
from ..services import latest_link
from ..signin import recent_sign_ins

register = template.Library()


@register.simple_tag
def nia_link(user):
    """The user's link as the settings page shows it: the open one, else the last that ended."""
    return latest_link(user) if user.is_authenticated else None


@register.filter
def nia_reason(code: str) -> str:
    """What a link's end reason means for the citizen ("" for a reason with no message)."""
    return str(MESSAGES.get(code, ""))


@register.simple_tag
def nia_sign_ins(user):
    """The user's latest sign-ins to public administration services through NIA."""
    return recent_sign_ins(user) if user.is_authenticated else []
