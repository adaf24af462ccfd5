"""Search on PostgreSQL: each tool's full-text document stored (kept by triggers) with a GIN
index, instead of one made for every row of every search. Nothing on SQLite (FTS5 there)."""

from django.db import migrations


def create(apps, schema_editor):
    from shiporskip.catalog import search

    search.postgresql_document(schema_editor.connection)


def drop(apps, schema_editor):
    from shiporskip.catalog import search

    search.postgresql_document(schema_editor.connection, drop=True)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0010_tool_category_slug_run")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
