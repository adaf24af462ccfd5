"""Search: pg_trgm on PostgreSQL (typo matching), an FTS5 table with its triggers on SQLite.

Each operation does nothing on the other database: `TrigramExtension` checks the vendor itself,
and `search.ensure_index` / `drop_index` return at once on anything but SQLite.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


def create_index(apps, schema_editor):
    from shiporskip.catalog import search

    search.ensure_index(schema_editor.connection)


def drop_index(apps, schema_editor):
    from shiporskip.catalog import search

    search.drop_index(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_factschange")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
