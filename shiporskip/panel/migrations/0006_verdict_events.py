import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count, Q


def backfill(apps, schema_editor):
    """Each finished run's event fields, as panel/history.py's record_event now stores them:
    the tool's runs in history order (finish time, then id), each compared with the one before."""
    PanelRun = apps.get_model("panel", "PanelRun")
    runs = (PanelRun.objects.filter(status="done")
            .annotate(ship=Count("reviews", filter=Q(reviews__verdict="ship")),
                      skip=Count("reviews", filter=Q(reviews__verdict="skip")))
            .order_by("tool_id", "finished_at", "pk").values_list("pk", "tool_id", "ship", "skip"))
    changed, before = [], None
    for pk, tool_id, ship, skip in runs.iterator(chunk_size=2000):
        if before is None or before[1] != tool_id:
            before = None
        prev = (before[2], before[3]) if before else (None, None)
        changed.append(PanelRun(pk=pk, verdict_event=before is None or prev != (ship, skip),
                                previous_id=before[0] if before else None,
                                prev_ship=prev[0], prev_skip=prev[1]))
        before = (pk, tool_id, ship, skip)
    PanelRun.objects.bulk_update(changed, ["verdict_event", "previous", "prev_ship", "prev_skip"],
                                 batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("panel", "0005_abstain")]

    operations = [
        # Plain ALTER TABLE ... ADD COLUMN: Django's SQLite AddField of a column with a default
        # rebuilds the table, which the page cache's triggers on it do not survive.
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddField(model_name="panelrun", name="verdict_event",
                                                  field=models.BooleanField(default=False))],
            database_operations=[migrations.RunSQL(
                "ALTER TABLE panel_panelrun ADD COLUMN verdict_event boolean NOT NULL DEFAULT false",
                "ALTER TABLE panel_panelrun DROP COLUMN verdict_event")],
        ),
        migrations.AddField(
            model_name="panelrun",
            name="previous",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to="panel.panelrun"),
        ),
        migrations.AddField(
            model_name="panelrun",
            name="prev_ship",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="panelrun",
            name="prev_skip",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="panelrun",
            index=models.Index(condition=models.Q(("verdict_event", True)), fields=["-finished_at", "-id"],
                               name="panelrun_verdict_events"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
