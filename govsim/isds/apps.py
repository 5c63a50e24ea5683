from django.apps import AppConfig


class Config(AppConfig):
    name = "govsim.isds"
    label = "sim_isds"
    verbose_name = "ISDS (simulator)"
    default_auto_field = "django.db.models.BigAutoField"
