"""The fixed-window counters of subscriptions/ratelimit.py: on Redis one round trip
each (one transaction), the same windows and totals as the cache's add + incr
elsewhere."""

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from subscriptions import ratelimit


def _redis():
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        pytest.skip("REDIS_URL is not set")
    return backend


def test_on_redis_a_count_is_one_transaction_that_opens_the_window_once(monkeypatch):
    backend = _redis()
    key = backend.make_and_validate_key("ratelimit:test-ip:192.0.2.1")
    client = backend._cache.get_client(key, write=True)
    sent = []
    real = type(client.pipeline()).execute
    monkeypatch.setattr(
        type(client.pipeline()), "execute", lambda self, *a: sent.append(1) or real(self, *a)
    )

    assert [ratelimit.allow("test-ip:192.0.2.1", 2, 60) for _ in range(3)] == [True, True, False]
    assert len(sent) == 3  # one round trip per count
    assert 0 < client.ttl(key) <= 60  # the window's expiry, set when it opened
    client.expire(key, 5)
    ratelimit.allow("test-ip:192.0.2.1", 2, 60)
    assert client.ttl(key) <= 5  # a later count does not move the window's end
    assert cache.get("ratelimit:test-ip:192.0.2.1") == 4  # an int, as the cache reads it


def test_the_cpu_budget_reads_what_was_charged(monkeypatch):
    clock = iter([10.0, 10.25, 20.0, 20.5])
    monkeypatch.setattr(ratelimit, "cpu_clock", lambda: next(clock))

    for _ in range(2):
        with ratelimit.charged_cpu("preview-ip:192.0.2.2", 3600):
            pass

    assert cache.get("cpu:preview-ip:192.0.2.2") == 750
    assert ratelimit.within_budget("preview-ip:192.0.2.2", 1)
    assert not ratelimit.within_budget("preview-ip:192.0.2.2", 0.75)


def test_without_redis_the_cache_counts_the_same(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    assert [ratelimit.allow("test-ip:192.0.2.3", 2, 60) for _ in range(3)] == [True, True, False]
    assert cache.get("ratelimit:test-ip:192.0.2.3") == 3


def test_a_preview_hit_and_its_budget_are_one_round_trip_on_redis(monkeypatch):
    backend = _redis()
    client = backend._cache.get_client(None, write=True)
    sent = []
    real = type(client.pipeline()).execute
    monkeypatch.setattr(
        type(client.pipeline()), "execute", lambda self, *a: sent.append(1) or real(self, *a)
    )
    clock = iter([1.0, 1.5])
    monkeypatch.setattr(ratelimit, "cpu_clock", lambda: next(clock))
    key = "preview-ip:192.0.2.4"

    first = ratelimit.allow_within_budget(key, 2, 60, 0.5)
    with ratelimit.charged_cpu(key, 60):
        pass
    answers = [first] + [ratelimit.allow_within_budget(key, 2, 60, 0.5) for _ in range(2)]

    assert answers == [(True, True), (True, False), (False, False)]
    assert len(sent) == 4  # three hits, one charge
    assert cache.get(f"ratelimit:{key}") == 3 and cache.get(f"cpu:{key}") == 500


def test_without_redis_a_preview_hit_and_its_budget_count_the_same(settings, monkeypatch):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    clock = iter([1.0, 1.5])
    monkeypatch.setattr(ratelimit, "cpu_clock", lambda: next(clock))
    key = "preview-ip:192.0.2.5"

    first = ratelimit.allow_within_budget(key, 2, 60, 0.5)
    with ratelimit.charged_cpu(key, 60):
        pass
    answers = [first] + [ratelimit.allow_within_budget(key, 2, 60, 0.5) for _ in range(2)]

    assert answers == [(True, True), (True, False), (False, False)]


def test_the_redis_cache_keeps_one_client_per_pool():
    backend = _redis()
    client = backend._cache.get_client("a", write=True)

    assert backend._cache.get_client("b", write=True) is client
    assert backend._cache.get_client("c") is client  # one server: reads use its pool too
    cache.set("reused-client", 5)
    assert cache.get("reused-client") == 5
