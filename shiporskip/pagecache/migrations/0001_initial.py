from django.db import migrations, models

from shiporskip.pagecache import triggers


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("catalog", "0004_search"),
        ("community", "0002_signups_and_lockouts"),
        ("newsletter", "0002_edition_error"),
        ("panel", "0005_abstain"),
    ]

    operations = [
        migrations.CreateModel(
            name="Generation",
            fields=[
                ("scope", models.CharField(max_length=140, primary_key=True, serialize=False)),
                ("token", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(triggers.create, triggers.drop),
    ]
