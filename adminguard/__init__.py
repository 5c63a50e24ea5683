"""Admin pages that cannot be made to leak secrets, for every admin site of either deployable.

Django's admin accepts a filter on any of a model's own fields from the URL, whatever the
ModelAdmin shows or excludes: `?body__regex=^1` makes a change list count the messages whose body
starts with 1, which reads a code one character at a time. A model names the fields that must
never be filtered, searched or sorted in its class attribute `SECRET_FIELDS`; a ModelAdmin built
on `SecretFieldsAdmin` then refuses every lookup that touches one of them (on the model or across
a relation: the change list answers 400), never searches or sorts by one, and leaves it out of its
forms and columns unless its `fields`/`fieldsets` name it on purpose (Django's user admin names
`password` to show the algorithm and a masked hash, with the link to set a new one).

This package imports nothing of the portal or the simulator, so both may use it (like Django).
"""

from django.contrib import admin
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from django.db.models.constants import LOOKUP_SEP


def secret_fields(model: type[Model]) -> frozenset[str]:
    """The names `model` declares secret (its own and those of the models it inherits from)."""
    names: set[str] = set()
    for klass in model.__mro__:
        names |= set(getattr(klass, "SECRET_FIELDS", ()))
    return frozenset(names)


def touches_secret(model: type[Model], path: str) -> bool:
    """Whether a lookup or field path (`user__password__startswith`, `-body`) names a secret."""
    current = model
    for part in path.lstrip("-=^@").split(LOOKUP_SEP):
        if part == "pk":
            part = current._meta.pk.name
        if part in secret_fields(current):
            return True
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return False  # a transform or a lookup type: nothing further to name
        if not field.is_relation or field.related_model is None:
            return False
        current = field.related_model
    return False


class SecretFieldsAdmin(BaseModelAdmin):
    """Mixed into a ModelAdmin or an inline: its model's secret fields stay out of every lookup,
    search and ordering."""

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        if touches_secret(self.model, lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_fields(self, request):
        searched = super().get_search_fields(request)
        return [name for name in searched if not touches_secret(self.model, name)]

    def get_sortable_by(self, request):
        sortable = super().get_sortable_by(request)
        return [name for name in sortable if not touches_secret(self.model, name)]

    def get_list_display(self, request):
        # ?o=N sorts by the Nth column whatever get_sortable_by says: no secret may be a column.
        shown = super().get_list_display(request)
        return [
            name
            for name in shown
            if not isinstance(name, str) or not touches_secret(self.model, name)
        ]

    def get_exclude(self, request, obj=None):
        excluded = list(super().get_exclude(request, obj) or ())
        named = set(flatten_fieldsets(self.fieldsets) if self.fieldsets else self.fields or ())
        hidden = sorted(secret_fields(self.model) - named - set(excluded))
        return [*excluded, *hidden]

    def get_ordering(self, request):
        return [
            name
            for name in super().get_ordering(request)
            if not isinstance(name, str) or not touches_secret(self.model, name)
        ]


class ModelAdmin(SecretFieldsAdmin, admin.ModelAdmin):
    """`admin.ModelAdmin` that keeps its model's secrets out of every lookup."""
