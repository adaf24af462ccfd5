"""The lists' vote scope split into shards (models.VOTES): the vote triggers bump their tool's
shard instead of one row that every vote on the site waited for."""

from django.db import migrations

from shiporskip.pagecache import triggers


class Migration(migrations.Migration):
    dependencies = [("pagecache", "0001_initial")]

    operations = [
        migrations.RunPython(triggers.recreate, triggers.recreate),
        migrations.RunSQL("DELETE FROM pagecache_generation WHERE scope = 'votes'", migrations.RunSQL.noop),
    ]
