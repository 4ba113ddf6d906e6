"""Hugging Face's daily papers join the default sources: its picks and their upvotes."""

from django.db import migrations

NAME = "Hugging Face daily papers"


def add_source(apps, schema_editor):
    Source = apps.get_model("digest", "Source")
    Source.objects.get_or_create(
        name=NAME, defaults={"url": "https://huggingface.co/api/daily_papers", "kind": "hf_daily"}
    )


def remove_source(apps, schema_editor):
    apps.get_model("digest", "Source").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("digest", "0003_source_health_paper_ids")]

    operations = [migrations.RunPython(add_source, remove_source)]
