"""The desk's permission. The desk keeps no data of its own: what a clerk files is a data
provision request of the register (`govsim.rob.models.DataProvisionRequest`).

A permission needs a model; `Desk` has no table (unmanaged, never queried) and exists only to
carry `czechpoint.file_request`, which the group "Czech POINT clerks" holds.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Desk(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("file_request", _("Can identify citizens and file requests at the Czech POINT desk"))
        ]
        verbose_name = _("Czech POINT desk")
        verbose_name_plural = _("Czech POINT desks")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
