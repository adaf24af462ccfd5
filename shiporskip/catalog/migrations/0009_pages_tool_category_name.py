from django.db import migrations

# A category's tools by name, off an index: the persona page filtered to one category reads its
# page of 100 in name order instead of sorting the category's every tool (1,700 at 10,000 tools).
# Plain SQL, as catalog/tally_triggers.py's listing indexes: the model's state is unchanged.


class Migration(migrations.Migration):
    dependencies = [("catalog", "0008_lists_sort_keys")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX tool_category_name ON catalog_tool (category_id, name)",
            "DROP INDEX IF EXISTS tool_category_name",
        ),
    ]
