"""The project's Celery app as the tests' workers run it (`-A tests.worker_app`).

Only one thing differs: a worker whose pool process died reports the lost task after
1 s instead of Celery's default 10 s, so the tests need not sit out the wait.
"""

from config.celery import app

app.conf.worker_lost_wait = 1

__all__ = ["app"]
