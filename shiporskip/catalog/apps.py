from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_delete, post_migrate, post_save


class CatalogConfig(AppConfig):
    name = "shiporskip.catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from shiporskip.catalog import search
        from shiporskip.catalog.models import Category, Tool

        # The search's cached list of names (its typo matching) forgets a changed catalog.
        for model in (Tool, Category):
            uid = f"search-names-{model.__name__}"
            post_save.connect(search.forget_names, sender=model, dispatch_uid=f"{uid}-save")
            post_delete.connect(search.forget_names, sender=model, dispatch_uid=f"{uid}-delete")
        post_migrate.connect(_ensure_search_index, sender=self, dispatch_uid="search-index")
        connection_created.connect(search.set_trigram_thresholds, dispatch_uid="search-trigram-thresholds")


def _ensure_search_index(using, **kwargs):
    """After every migrate: SQLite's table rebuilds drop triggers; put the FTS5 index back."""
    from django.db import connections

    from shiporskip.catalog import search

    search.ensure_index(connections[using])
