from django.apps import AppConfig


class Config(AppConfig):
    name = "govsim.rob"
    label = "sim_rob"
    verbose_name = "ROB (simulator)"
    default_auto_field = "django.db.models.BigAutoField"
