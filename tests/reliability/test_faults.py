"""Promise: for each subscriber and period, at most one Message-ID ever reaches the mail
server, none is missing once recovery has run, and nobody is suppressed who was only
told to try again, whatever fails when.

Each test is one run of tests/chaos.py: real `celery worker` processes (two, two pool
processes each) and a real `celery beat` send the digests of due subscribers through
Django's SMTP backend to a real SMTP server (aiosmtpd) that misbehaves as the test says,
while the test kills workers, restarts Redis or drops the workers' database connections
at random moments. bench/chaos.py runs the same at 2,000 subscribers with 20 kills.
"""

import os
import shutil

import pytest
from django.db import connection

from tests.chaos import Scenario, SMTPFaults, judge, populate, run

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

READERS = 120
# A slower server, so that faults injected at random moments land while mail goes out.
SLOW = SMTPFaults(seconds_per_message=0.03)


def _run(scenario: Scenario, start_worker, tmp_path, readers: int = READERS):
    start, _ = start_worker
    people = populate(readers)
    result = run(scenario, people, start, tmp_path)
    print(result)
    assert result.lost == 0, result
    assert result.duplicate_message_ids == 0, result
    assert result.wrongly_suppressed == 0, result
    assert result.exactly_once == result.expected == readers, result
    # Every delivery says "sent", with the Message-ID the server received.
    assert result.unrecorded == 0, result
    return result


def test_greylisting_at_rcpt_is_retried_and_suppresses_nobody(start_worker, tmp_path):
    faults = SMTPFaults(greylist=0.3, greylist_attempts=2)
    result = _run(Scenario("greylisting at RCPT TO", smtp=faults), start_worker, tmp_path)

    greylisted = [f"reader{n}@example.com" for n in range(READERS)]
    assert sum(faults.fault_of(a) == "greylist" for a in greylisted) >= READERS // 5
    assert result.same_id_resends == 0  # refused at RCPT: nothing was taken


def test_421_after_data_and_a_reset_before_its_reply_are_retried_once_each(start_worker, tmp_path):
    faults = SMTPFaults(after_data=0.2, reset=0.1)

    _run(Scenario("421 after DATA, reset before its reply", smtp=faults), start_worker, tmp_path)


def test_a_reply_after_the_clients_timeout_is_resent_only_with_the_same_message_id(
    start_worker, tmp_path
):
    faults = SMTPFaults(late_reply=0.1)

    result = _run(Scenario("reply after the timeout", smtp=faults), start_worker, tmp_path)

    # The server had those messages; the retry came with the same Message-ID.
    assert result.same_id_resends >= READERS // 20


@pytest.mark.parametrize(
    "scenario",
    [
        Scenario("worker main process killed", smtp=SLOW, kill_main=3),
        Scenario("pool process killed", smtp=SLOW, kill_child=3),
    ],
    ids=lambda scenario: scenario.name,
)
def test_workers_killed_at_random_moments_leave_nothing_lost_or_doubled(
    start_worker, tmp_path, scenario
):
    result = _run(scenario, start_worker, tmp_path)

    assert result.faults_injected == scenario.kill_main + scenario.kill_child


def test_redis_killed_and_restarted_while_mail_goes_out(start_worker, tmp_path):
    if not shutil.which("redis-server"):
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed on the CI machine")
        pytest.skip("needs redis-server")
    scenario = Scenario("Redis (broker + cache) killed -9, restarted", smtp=SLOW, redis_restarts=2)

    # More chunks than the workers hold at once (twelve of tests/chaos.py's 50, where two
    # workers hold four): hand-overs overlap (digest/handover.py), so with fewer chunks all
    # were taken before the first restart and went out while Redis was down, and the
    # second restart came after the last digest.
    result = _run(scenario, start_worker, tmp_path, readers=600)

    assert result.faults_injected == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates PostgreSQL backends")
def test_the_workers_database_connections_terminated_lose_no_outcome(start_worker, tmp_path):
    scenario = Scenario("PostgreSQL connections terminated", smtp=SLOW, pg_terminations=5)

    result = _run(scenario, start_worker, tmp_path)

    assert result.faults_injected == 5


def test_every_chunk_twice_and_two_dispatchers_at_once_send_one_each(start_worker, tmp_path):
    _run(Scenario("chunks twice, two dispatchers", duplicate_chunks=True), start_worker, tmp_path)


def test_the_judge_counts_a_second_message_id_and_a_missing_digest(db):
    """The yardstick itself: it must see what it is there to see."""
    people = populate(3)
    a, b, _ = (person.email for person in people)
    accepted = [(a, "<1@x>"), (a, "<1@x>"), (b, "<2@x>"), (b, "<3@x>")]

    result = judge(Scenario("yardstick"), people, accepted, 0, 0)

    assert (result.exactly_once, result.same_id_resends) == (1, 1)
    assert (result.duplicate_message_ids, result.lost) == (1, 1)
