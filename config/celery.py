"""The Celery app and the beat schedule.

Run as many `worker`s as needed and one `beat`: a second beat waits while the
first holds its lease (config/beat.py). Every scheduled task is idempotent
anyway, so a duplicate run sends nothing twice.
"""

import os
from datetime import timedelta
from pathlib import Path

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("paperboy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _prepare(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    # kombu's file-system transport expects its folders to exist.
    for folder in settings.CELERY_BROKER_TRANSPORT_OPTIONS.values():
        if isinstance(folder, str) and folder.startswith(str(settings.DATA_DIR)):
            Path(folder).mkdir(parents=True, exist_ok=True)

    sender.conf.beat_schedule = {
        "fetch-sources": {
            "task": "digest.tasks.fetch_all_sources",
            "schedule": timedelta(minutes=settings.FETCH_INTERVAL_MINUTES),
        },
        "dispatch-digests": {
            "task": "digest.tasks.dispatch_digests",
            "schedule": timedelta(seconds=settings.DISPATCH_INTERVAL_SECONDS),
        },
        "reconcile-deliveries": {
            "task": "digest.tasks.reconcile_deliveries",
            "schedule": timedelta(seconds=settings.RECONCILE_INTERVAL_SECONDS),
        },
        # The readers' models (digest/personal.py): nightly, in UTC.
        "refresh-reader-models": {
            "task": "digest.tasks.refresh_reader_models",
            "schedule": crontab(hour=settings.LEARNING_REFRESH_HOUR, minute=0),
        },
    }
