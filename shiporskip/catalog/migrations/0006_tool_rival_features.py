from django.db import migrations, models
from pydantic import ValidationError

from shiporskip.catalog.facts import ToolFacts
from shiporskip.catalog.rivals import features


def backfill(apps, schema_editor):
    """Each existing tool's rival features, as Tool.save() now keeps them."""
    Tool = apps.get_model("catalog", "Tool")
    batch = []
    for tool in Tool.objects.only("pk", "facts").iterator(chunk_size=500):
        try:
            tool.rival_features = features(ToolFacts.model_validate(tool.facts))
        except ValidationError:
            continue  # left empty: rivals() parses these facts itself
        batch.append(tool)
        if len(batch) >= 500:
            Tool.objects.bulk_update(batch, ["rival_features"])
            batch = []
    Tool.objects.bulk_update(batch, ["rival_features"])


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_tool_category_slug")]

    operations = [
        migrations.AddField(
            model_name="tool",
            name="rival_features",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
