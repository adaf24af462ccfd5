"""Search on PostgreSQL: trigram indexes on names and vendors, so that a typo is found through
them instead of four similarities computed for every tool. Nothing on SQLite (its typo index
lives in the process, catalog/search.py `NameIndex`)."""

from django.db import migrations


def create(apps, schema_editor):
    from shiporskip.catalog import search

    search.postgresql_trigram_indexes(schema_editor.connection)


def drop(apps, schema_editor):
    from shiporskip.catalog import search

    search.postgresql_trigram_indexes(schema_editor.connection, drop=True)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0011_search_postgresql")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
