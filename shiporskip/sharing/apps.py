from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "shiporskip.sharing"
    label = "sharing"
    verbose_name = "Search engines and sharing"
