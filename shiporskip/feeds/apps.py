from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "shiporskip.feeds"
