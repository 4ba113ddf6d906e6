"""Fixed-window rate limits and CPU budgets on the shared cache (Redis in production).

`cache.add` creates the counter with its expiry only if it is absent and
`cache.incr` is atomic on Redis, so concurrent web processes count together. On
Redis both go in one transaction, one round trip; the live preview's hit and its
budget's reading share one (`allow_within_budget`), its CPU charge is a second.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from subscriptions import addresses

# How many account emails one address can be sent in an hour, whoever asks.
EMAILS_PER_ADDRESS_PER_HOUR = 3

# This thread's CPU time: what a request costs the web process, without the waits on
# the database or the cache. A module attribute, so tests can give it a clock.
cpu_clock = time.thread_time


def allow(key: str, limit: int, window_seconds: int) -> bool:
    """Count one hit on `key`; False once more than `limit` hits fell in the window."""
    return _add(f"ratelimit:{key}", 1, window_seconds) <= limit


def allow_account_email(address: str) -> bool:
    """Count one account email to `address`; False past the hourly limit.

    Keyed by the normalized address, so no spelling of a mailbox has a limit of its own.
    """
    key = f"mail:{addresses.address_key(address)}"
    return allow(key, EMAILS_PER_ADDRESS_PER_HOUR, 3600)


def within_budget(key: str, budget_seconds: float) -> bool:
    """True while the CPU time charged to `key` in its window is under `budget_seconds`."""
    return (cache.get(f"cpu:{key}") or 0) < budget_seconds * 1000


def allow_within_budget(
    key: str, limit: int, window_seconds: int, budget_seconds: float
) -> tuple[bool, bool]:
    """`allow(key, limit, window_seconds)` and `within_budget(key, budget_seconds)`,
    in one round trip on Redis."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return allow(key, limit, window_seconds), within_budget(key, budget_seconds)
    counter = backend.make_and_validate_key(f"ratelimit:{key}")
    charged = backend.make_and_validate_key(f"cpu:{key}")
    with backend._cache.get_client(counter, write=True).pipeline() as transaction:
        transaction.set(counter, 0, ex=window_seconds, nx=True)
        transaction.incrby(counter, 1)
        transaction.get(charged)
        _, hits, spent_ms = transaction.execute()
    return hits <= limit, int(spent_ms or 0) < budget_seconds * 1000


@contextmanager
def charged_cpu(key: str, window_seconds: int) -> Iterator[None]:
    """Charge the CPU time the block takes (whole milliseconds, at least one) to `key`."""
    started = cpu_clock()
    try:
        yield
    finally:
        spent_ms = max(1, round((cpu_clock() - started) * 1000))
        _add(f"cpu:{key}", spent_ms, window_seconds)


def _add(cache_key: str, amount: int, window_seconds: int) -> int:
    """Add `amount` to the window's counter, opening the window if there is none; the total."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # MULTI: create at 0 with the window's expiry if absent, add; EXEC. Stored as
        # Django stores an int, so cache.get reads it.
        key = backend.make_and_validate_key(cache_key)
        with backend._cache.get_client(key, write=True).pipeline() as transaction:
            transaction.set(key, 0, ex=window_seconds, nx=True)
            transaction.incrby(key, amount)
            return transaction.execute()[1]
    if cache.add(cache_key, amount, timeout=window_seconds):
        return amount
    try:
        return cache.incr(cache_key, amount)
    except ValueError:  # expired between add and incr: this one opens a new window
        cache.add(cache_key, amount, timeout=window_seconds)
        return amount
