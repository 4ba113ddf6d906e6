"""Real `celery worker` processes for the tests that need one, in a subprocess each,
on a queue of the test's own, against the test database, broker and cache the test
uses (PostgreSQL + Redis in CI, SQLite + kombu's file-system transport on a laptop).

The `start_worker` fixture (tests/conftest.py) starts as many as a test wants; a
test can kill one (or its pool) and start another on the same queue.
"""

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

from django.conf import settings

from config.celery import app as celery_app
from tests.support import database_url, wait_for

ROOT = Path(__file__).resolve().parents[1]


def outbox_messages(outbox: Path) -> list[tuple[str, str]]:
    """(To, Message-ID) of every complete .eml in the outbox."""
    if not outbox.is_dir():
        return []
    found = []
    for path in sorted(outbox.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        found.append((str(message["To"]), str(message["Message-ID"])))
    return found


def per_recipient(messages: list[tuple[str, str]]) -> Counter:
    return Counter(to for to, _ in messages)


@dataclass
class Worker:
    process: subprocess.Popen
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)  # what it was started with

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        ready = wait_for(lambda: "ready." in self.log or self.process.poll() is not None, timeout)
        assert ready and self.process.poll() is None, f"worker did not start:\n{self.log[-3000:]}"

    def pool_children(self) -> list[int]:
        """The pids of the worker's pool processes (its direct children)."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                children.append(int(stat.parent.name))
        return children

    def kill_all(self) -> None:
        """SIGKILL the worker and its pool at once, as when its machine dies (also a pool
        left orphaned by a kill of the main process alone)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


StartWorker = Callable[..., Worker]


def worker_factory(tmp_path: Path, show_logs: bool = True) -> Iterator[tuple[StartWorker, Path]]:
    """Yield (start, outbox): `start(concurrency=1, slow_seconds=0, **env)` starts a
    worker on this test's queue; every worker is killed at the end.

    All workers of a test share the queue and OUTBOX_DIR (tmp_path / "outbox"), and
    the test process enqueues onto that queue. `slow_seconds` makes the outbox take
    that long per message, so a test can kill a worker mid-chunk.
    """
    queue = f"paperboy-test-{uuid.uuid4().hex[:8]}"
    outbox = tmp_path / "outbox"
    started: list[Worker] = []

    def start(concurrency: int = 1, slow_seconds: float = 0, **extra_env: str) -> Worker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_QUEUE": queue,
            "EMAIL_BACKEND": "tests.backends.SlowOutboxBackend",
            "OUTBOX_DIR": str(outbox),
            "SLOW_OUTBOX_SECONDS": str(slow_seconds),
            **extra_env,
        }
        log_path = tmp_path / f"worker-{len(started)}.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "tests.worker_app", "worker",
                 "--concurrency", str(concurrency), "--loglevel", "INFO",
                 "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", queue],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so a test can kill it whole
            )  # fmt: skip
        worker = Worker(process, log_path, env)
        started.append(worker)
        return worker

    celery_app.conf.task_always_eager = False
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        yield start, outbox
    finally:
        celery_app.conf.task_default_queue = previous_queue
        for worker in started:
            # Every test waits for its tasks to finish, so nothing is in flight here: a
            # cold stop saves the seconds of a warm shutdown.
            worker.kill_all()
            if show_logs:  # pytest shows them when the test failed
                print(f"--- {worker.log_path.name}\n{worker.log[-4000:]}")
