from django.db import migrations

# The sitemap's lastmod values, the latest finished run (of any tool, of a tool's current run, of
# a category's), read newest first off an index instead of a MAX over every run's wide row.
# Plain SQL, as catalog's listing indexes: the model's state is unchanged.


class Migration(migrations.Migration):
    dependencies = [("panel", "0007_perf_persona_tally")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX panelrun_finished ON panel_panelrun (finished_at)",
            "DROP INDEX IF EXISTS panelrun_finished",
        ),
    ]
