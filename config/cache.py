"""Django's Redis cache, with one redis-py client per connection pool.

Django's RedisCacheClient builds a new `redis.Redis` for every cache operation, and
redis-py's constructor registers its ~170 response callbacks each time: about
0.1-0.2 ms of CPU, more than the round trip itself to a local Redis, and the live
preview makes two or three of them per request. A client only holds its pool (which
hands out connections per command and checks the process id after a fork), so one
client per pool serves every thread of the process, as redis-py intends.
"""

from django.core.cache.backends import redis as django_redis


class _ReusingClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}  # pool -> its redis.Redis

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients.setdefault(pool, self._client(connection_pool=pool))
        return client


class RedisCache(django_redis.RedisCache):
    """`django.core.cache.backends.redis.RedisCache`, reusing its clients."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = _ReusingClient
