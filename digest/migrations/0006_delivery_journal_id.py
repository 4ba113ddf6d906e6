import uuid

from django.db import migrations, models


def distinct_ids(apps, schema_editor):
    # AddField gives every existing row the same default: give each its own.
    Delivery = apps.get_model("digest", "Delivery")
    for delivery in Delivery.objects.only("pk"):
        Delivery.objects.filter(pk=delivery.pk).update(journal_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("digest", "0005_delivery_feedback_items")]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="journal_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.RunPython(distinct_ids, migrations.RunPython.noop),
    ]
