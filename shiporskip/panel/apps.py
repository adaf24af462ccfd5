from django.apps import AppConfig


class PanelConfig(AppConfig):
    name = "shiporskip.panel"
    default_auto_field = "django.db.models.BigAutoField"
