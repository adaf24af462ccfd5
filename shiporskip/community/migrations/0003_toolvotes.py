import django.db.models.deletion
from django.db import migrations, models

from shiporskip.community import tally_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0007_stored_panel_tally"),
        ("community", "0002_signups_and_lockouts"),
    ]

    operations = [
        migrations.CreateModel(
            name="ToolVotes",
            fields=[
                ("tool", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                                              related_name="vote_tally", serialize=False, to="catalog.tool")),
                ("ship", models.IntegerField(default=0)),
                ("skip", models.IntegerField(default=0)),
            ],
        ),
        # The triggers on community_vote, and the backfill from the votes already cast.
        migrations.RunPython(tally_triggers.create, tally_triggers.drop),
    ]
