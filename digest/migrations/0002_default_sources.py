"""The arXiv feeds a new install follows; staff add, disable or remove them in the admin."""

from django.db import migrations

DEFAULT_SOURCES = [
    ("arXiv cs.LG", "https://rss.arxiv.org/rss/cs.LG"),
    ("arXiv cs.CL", "https://rss.arxiv.org/rss/cs.CL"),
    ("arXiv cs.AI", "https://rss.arxiv.org/rss/cs.AI"),
]


def add_sources(apps, schema_editor):
    Source = apps.get_model("digest", "Source")
    for name, url in DEFAULT_SOURCES:
        Source.objects.get_or_create(name=name, defaults={"url": url, "kind": "arxiv_rss"})


def remove_sources(apps, schema_editor):
    Source = apps.get_model("digest", "Source")
    Source.objects.filter(name__in=[name for name, _ in DEFAULT_SOURCES]).delete()


class Migration(migrations.Migration):
    dependencies = [("digest", "0001_initial")]

    operations = [migrations.RunPython(add_sources, remove_sources)]
