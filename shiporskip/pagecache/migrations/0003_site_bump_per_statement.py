"""On PostgreSQL, the site's token bumped once per statement that changed rows, not once per
row: a bulk write's bumps of one row took time quadratic in its size (triggers.py)."""

from django.db import migrations

from shiporskip.pagecache import triggers


class Migration(migrations.Migration):
    dependencies = [("pagecache", "0002_vote_shards")]

    operations = [migrations.RunPython(triggers.recreate, triggers.recreate)]
