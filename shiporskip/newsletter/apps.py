from django.apps import AppConfig


class NewsletterConfig(AppConfig):
    name = "shiporskip.newsletter"
    verbose_name = "Newsletter"
