from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_search")]

    operations = [
        migrations.AddIndex(
            model_name="tool",
            index=models.Index(fields=["category", "slug"], name="tool_category_slug"),
        ),
    ]
