from django.apps import AppConfig


class CompareConfig(AppConfig):
    name = "shiporskip.compare"
