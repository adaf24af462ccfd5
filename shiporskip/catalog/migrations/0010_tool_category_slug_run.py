from django.db import migrations, models

# The sitemap's comparisons count each category's reviewed tools and read them by position in
# slug order (sharing/pairs.py): with the current run in the index, both come off the index
# alone, never the wide tool rows.


class Migration(migrations.Migration):
    dependencies = [("catalog", "0009_pages_tool_category_name")]

    operations = [
        migrations.RemoveIndex(model_name="tool", name="tool_category_slug"),
        migrations.AddIndex(
            model_name="tool",
            index=models.Index(fields=["category", "slug", "current_run"], name="tool_category_slug_run"),
        ),
    ]
