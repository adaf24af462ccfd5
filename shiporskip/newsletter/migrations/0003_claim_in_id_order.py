"""The claim's index ends in the id: PostgreSQL reads an edition's queued rows in order from it
instead of walking the primary key past every row already sent (models.Delivery)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('newsletter', '0002_edition_error'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='delivery',
            name='newsletter__edition_2fb27e_idx',
        ),
        migrations.AddIndex(
            model_name='delivery',
            index=models.Index(fields=['edition', 'status', 'id'], name='delivery_claim_order'),
        ),
    ]
