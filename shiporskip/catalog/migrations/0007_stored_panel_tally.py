from django.db import migrations, models

from shiporskip.catalog import tally_triggers

FIELDS = [
    ("panel_ship", models.IntegerField(default=0, editable=False), "integer NOT NULL DEFAULT 0"),
    ("panel_skip", models.IntegerField(default=0, editable=False), "integer NOT NULL DEFAULT 0"),
    ("panel_mean", models.FloatField(editable=False, null=True), "double precision NULL"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_tool_rival_features"),
        ("panel", "0005_abstain"),
    ]

    operations = [
        # Plain ALTER TABLE ... ADD COLUMN: Django's SQLite AddField of a NOT NULL column
        # rebuilds the table, which the search and page-cache triggers on it do not survive.
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddField(model_name="tool", name=name, field=field)
                              for name, field, _ in FIELDS],
            database_operations=[migrations.RunSQL(f"ALTER TABLE catalog_tool ADD COLUMN {name} {sql}",
                                                   f"ALTER TABLE catalog_tool DROP COLUMN {name}")
                                 for name, _, sql in FIELDS],
        ),
        # The triggers, the backfill and the listing's panel-order indexes.
        migrations.RunPython(tally_triggers.create, tally_triggers.drop),
    ]
