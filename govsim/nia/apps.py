from django.apps import AppConfig


class Config(AppConfig):
    name = "govsim.nia"
    label = "sim_nia"
    verbose_name = "NIA (simulator)"
    default_auto_field = "django.db.models.BigAutoField"
