from django import template

from accounts.validators import format_phone

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """+420601123456 → +420 601 123 456"""
    return format_phone(value) if value else "—"
