"""`manage.py load_sample`: the bundled real papers, first seen in the last days (the demo)."""

from django.core.management.base import BaseCommand

from digest import demo, evaluations


class Command(BaseCommand):
    help = (
        "Load the bundled sample (real arXiv and Hugging Face papers of three days, "
        "digest/sample/), first seen in the last days, so `make run` has news to mail."
    )

    def handle(self, *args, **options) -> None:
        self.stdout.write(str(demo.load_sample()))
        # As a fetch does: the windows and the preview read these papers' analyses.
        self.stdout.write(evaluations.prepared_summary(*evaluations.prepare_recent()))
