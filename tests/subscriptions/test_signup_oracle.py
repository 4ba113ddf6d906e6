"""Signup tells nobody whether an address is known (issue 11, finding 9): not by its
answer, its headers or cookies (test_signup.py), its work, nor its time."""

import gc
import random
import re
import statistics
import time

import pytest
from celery.app.task import Task
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from subscriptions.models import Subscriber

pytestmark = pytest.mark.django_db

SIGNUP = {
    "interests": "anomaly detection\nlanguage models\n",
    "frequency": "daily",
    "send_hour": "7",
    "time_zone": "Europe/Paris",
    "website": "",
}
KNOWN = [
    Subscriber.Status.PENDING,
    Subscriber.Status.ACTIVE,
    Subscriber.Status.UNSUBSCRIBED,
    Subscriber.Status.SUPPRESSED,
]
STATES = ["new", *KNOWN]


@pytest.fixture
def signup_as(make_subscriber, settings, monkeypatch, django_capture_on_commit_callbacks):
    """signup_as(state) posts a signup of an address in that state ("new": one never
    seen) and returns the names of the tasks it enqueued, which do not run."""
    settings.SIGNUP_RATE_LIMIT_PER_HOUR = 1_000_000
    for status in KNOWN:
        make_subscriber(email=f"{status}@example.com", status=status)
    enqueued: list[str] = []
    monkeypatch.setattr(Task, "apply_async", lambda task, *a, **k: enqueued.append(task.name))
    client = Client()
    counter = iter(range(1_000_000))

    def post(state: str) -> list[str]:
        email = f"new{next(counter)}@example.com" if state == "new" else f"{state}@example.com"
        enqueued.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post("/", {**SIGNUP, "email": email}).status_code == 302
        return list(enqueued)

    return post


def _shape(sql: str) -> str:
    """A statement without its values: quoted strings and numbers become ?."""
    return re.sub(r"\b\d+(\.\d+)?\b", "?", re.sub(r"'(?:[^']|'')*'", "?", sql))


def test_signup_does_the_same_work_for_every_state(signup_as):
    signup_as("new")  # anything done once per process is done

    work = {}
    for state in STATES:
        with CaptureQueriesContext(connection) as queries:
            tasks = signup_as(state)
        work[state] = ([_shape(query["sql"]) for query in queries], tasks)

    for state in KNOWN:
        assert work[state] == work["new"], state
    # One statement (the upsert) and one task, which decides what to send.
    queries, tasks = work["new"]
    assert len(queries) == 1, queries
    assert tasks == ["subscriptions.tasks.send_signup_email"]


def _median_times(signup_as, rounds: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {state: [] for state in STATES}
    order = list(STATES)
    for _ in range(rounds):
        random.shuffle(order)  # interleaved: a slow moment of the machine hits every state
        for state in order:
            started = time.perf_counter()
            signup_as(state)
            samples[state].append(time.perf_counter() - started)
    return {state: statistics.median(times) for state, times in samples.items()}


def test_signup_takes_as_long_for_every_state(signup_as):
    """Medians of many interleaved samples per state; the slowest may exceed the fastest
    by at most 20%. The old code's gap was 70% (3.4 ms suppressed, 6 ms new, pending or
    unsubscribed, here), the tester's 30-70%. Noise only widens a gap, and a real gap
    shows in every attempt: the test passes on the first of three within the bound."""
    for _ in range(10):
        signup_as(random.choice(STATES))  # warm up
    gc.disable()
    try:
        for _attempt in range(3):
            medians = _median_times(signup_as, rounds=40)
            fastest, slowest = min(medians.values()), max(medians.values())
            if slowest - fastest <= 0.2 * fastest:
                break
    finally:
        gc.enable()
    shown = {state: f"{seconds * 1000:.2f} ms" for state, seconds in medians.items()}
    assert slowest - fastest <= 0.2 * fastest, shown
