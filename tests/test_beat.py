"""Exactly one beat runs the schedule: a second one waits, and takes over when the first
stops renewing its lease (config/beat.py). Real `celery beat` processes."""

import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from config.beat import LEASE_NAME, hold_lease
from digest.models import Lease
from tests.support import database_url, wait_for
from tests.workers import ROOT

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_lease_is_held_by_one_renewed_by_it_and_taken_once_it_ran_out():
    assert hold_lease("job", "beat-a", 60)
    assert not hold_lease("job", "beat-b", 60)
    assert hold_lease("job", "beat-a", 60)  # renewed

    Lease.objects.filter(name="job").update(expires_at=timezone.now() - timedelta(seconds=1))

    assert hold_lease("job", "beat-b", 60)
    assert not hold_lease("job", "beat-a", 60)


def _beat(tmp_path, name: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database_url(),
        "CELERY_QUEUE": f"paperboy-beat-test-{uuid.uuid4().hex[:8]}",  # nobody consumes it
        "DISPATCH_INTERVAL_SECONDS": "1",
        "RECONCILE_INTERVAL_SECONDS": "1",
        "FETCH_INTERVAL_MINUTES": "100000",
        "BEAT_LEASE_SECONDS": "3",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tests.worker_app", "beat", "--loglevel", "INFO",
         "--schedule", str(tmp_path / f"{name}-schedule")],
        cwd=ROOT, env=env, stdout=(tmp_path / f"{name}.log").open("w"),
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def test_a_second_beat_fires_nothing_until_the_first_is_gone(tmp_path):
    first = _beat(tmp_path, "first")
    log = lambda name: (tmp_path / f"{name}.log").read_text()  # noqa: E731
    try:
        assert wait_for(lambda: "Sending due task" in log("first"), timeout=30), log("first")
        second = _beat(tmp_path, "second")
        assert wait_for(lambda: "another beat holds the lease" in log("second"), timeout=30)
        fired_by_first = log("first").count("Sending due task")

        assert wait_for(lambda: log("first").count("Sending due task") > fired_by_first + 2)
        assert "Sending due task" not in log("second")
        assert Lease.objects.get(name=LEASE_NAME).holder.split(":")[1] == str(first.pid)

        os.killpg(first.pid, signal.SIGKILL)  # it dies without letting the lease go
        assert wait_for(lambda: "Sending due task" in log("second"), timeout=30), log("second")
        assert "holding the lease" in log("second")
    finally:
        for process in (first, locals().get("second")):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
