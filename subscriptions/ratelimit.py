"""Fixed-window rate limits on the shared cache (Redis in production).

`cache.add` creates the counter with its expiry only if it is absent and
`cache.incr` is atomic on Redis, so concurrent web processes count together.
"""

from django.core.cache import cache


def allow(key: str, limit: int, window_seconds: int) -> bool:
    """Count one hit on `key`; False once more than `limit` hits fell in the window."""
    cache_key = f"ratelimit:{key}"
    if cache.add(cache_key, 1, timeout=window_seconds):
        return True
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr: this hit opens a new window
        cache.add(cache_key, 1, timeout=window_seconds)
        return True
    return count <= limit
