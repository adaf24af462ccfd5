import django.db.models.deletion
from django.db import migrations, models

from shiporskip.panel import tally_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0007_stored_panel_tally"),
        ("panel", "0006_verdict_events"),
    ]

    operations = [
        migrations.CreateModel(
            name="PersonaTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("verdict", models.CharField(max_length=4)),
                ("reviews", models.IntegerField(default=0)),
                ("category", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                               to="catalog.category")),
                ("persona", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                              to="panel.persona")),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("persona", "category", "verdict"),
                                                        name="one_persona_tally_row")],
            },
        ),
        # The triggers that keep it, and the counts of the reviews already stored.
        migrations.RunPython(tally_triggers.create, tally_triggers.drop),
    ]
