"""The simulator's own admin site (/sim/admin/ embedded, /admin/ standalone), apart from the
helpdesk's: simulated citizens, boxes and switches are not portal data.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Outage


class SimulatorAdminSite(admin.AdminSite):
    site_header = _("Simulated state systems")
    site_title = _("State systems simulator")
    index_title = _("Base register, data boxes, NIA, Czech POINT")


site = SimulatorAdminSite(name="govsim_admin")


@admin.register(Outage, site=site)
class OutageAdmin(admin.ModelAdmin):
    list_display = ["system", "down", "note"]
    list_editable = ["down", "note"]
