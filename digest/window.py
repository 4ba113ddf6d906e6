"""One clock for what a digest window holds, so a paper committed late is never skipped.

A digest covers the papers first seen in (window_start, window_end], and the
next one starts where it ended. An ingest stamps `first_seen` before its
transaction commits; without care, a dispatch could end a window at T while a
paper stamped just before T is still uncommitted and invisible to it, and the
next window would start after it: the paper would be mailed to nobody.

So ingests and window ends take their time from one clock under one lock:

- an ingest calls `ingest_time()` inside its transaction: it takes the lock
  shared (ingests run side by side) and holds it until it commits;
- a window end comes from `window_end()`: it takes the lock exclusively, which
  waits until every ingest holding it has committed, and reads the clock.

Every paper stamped before a window's end is therefore committed (visible)
before that end is read, and every ingest that starts later stamps a later
time. On PostgreSQL the lock is an advisory transaction lock and the clock is
the database server's, so web, worker and beat hosts whose clocks differ still
agree. SQLite serializes writers already (transactions begin IMMEDIATE, see
settings), so there taking the write lock is the lock, and the one machine's
clock the clock.
"""

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

# pg_advisory_xact_lock's key: any number no other code of this database uses.
_LOCK_KEY = 7_026_120_101


def _database_now() -> datetime:
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement_timestamp()")
        return cursor.fetchone()[0]


def _lock(shared: bool) -> None:
    if connection.vendor == "postgresql":
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(%s)", [_LOCK_KEY])


def ingest_time() -> datetime:
    """The first-seen time for the papers of the ingest in progress; call it inside the
    ingest's transaction, which then holds back window ends until it commits."""
    if not connection.in_atomic_block:
        raise RuntimeError("ingest_time() belongs inside the ingest's transaction")
    _lock(shared=True)
    return _database_now()


def window_end() -> datetime:
    """The end of a window that closes now: no paper first seen before it is still
    uncommitted, and none committed later is stamped before it."""
    with transaction.atomic():
        _lock(shared=False)
        return _database_now()
