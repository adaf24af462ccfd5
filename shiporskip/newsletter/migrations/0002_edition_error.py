from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("newsletter", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="edition",
            name="error",
            field=models.TextField(blank=True),
        ),
    ]
