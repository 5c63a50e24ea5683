"""How NIA learns of the base register's changes: the register records every change of a
citizen's data as a `CitizenChange` (`govsim.rob.services.update_citizen`); each new one becomes
a ROBREF notification for every provider NIA gave that citizen's BSI to, in the same transaction.
A citizen removed from the register voids their BSIs: a last ROBREF says so. The register knows
nothing of NIA (`govsim.rob` never imports `govsim.nia`).
"""

from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from govsim.rob.models import Citizen, CitizenChange

from . import backchannel


@receiver(post_save, sender=CitizenChange, dispatch_uid="sim_nia_register_changed")
def register_changed(sender, instance: CitizenChange, created: bool, raw: bool = False, **kwargs):
    if not created or raw:
        return  # a change merged into one already recorded was told already
    citizen = Citizen.objects.filter(pk=instance.citizen_id).first()
    if citizen is not None:
        backchannel.notify_register_change(citizen)


@receiver(pre_delete, sender=Citizen, dispatch_uid="sim_nia_citizen_removed")
def citizen_removed(sender, instance: Citizen, **kwargs):
    backchannel.notify_register_change(instance, invalidated=True)
