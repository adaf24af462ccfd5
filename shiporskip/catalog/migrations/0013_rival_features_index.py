from django.db import migrations, models

# A tool's rivals are ranked from three columns of its category's tools (Tool.rival_pks): with
# them and the id in one index, the database reads the index alone, not 1,400 wide tool rows.


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0012_search_trigram_indexes"),
        ("panel", "0008_panelrun_finished"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="tool",
            index=models.Index(
                fields=["category", "name", "rival_features", "id"], name="tool_category_rivals"
            ),
        ),
    ]
