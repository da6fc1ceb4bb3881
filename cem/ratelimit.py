"""A per-IP request budget for the public client-link pages, counted in the shared cache."""

import time

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


# Addresses this process found over their budget, by (scope, address): the window they were
# found in. A window's count only grows, so the address stays over until the window ends, and
# this process can say so without asking the cache (a flood costs no round trips).
_over_until_window_ends: dict[tuple[str, str], int] = {}
_REMEMBERED_AT_MOST = 10_000


def _window(window_seconds: int) -> int:
    return int(time.time() // window_seconds)


def window_key(*, scope: str, ip: str, window_seconds: int) -> str:
    """The cache key counting this address's requests in the current fixed window."""
    return f"rate:{scope}:{ip}:{_window(window_seconds)}"


def _redis_client(cache: RedisCache):
    """The cache's redis-py client, made once per cache object (Django makes a new one on every
    call, about 0.1 ms of CPU); it draws connections from the cache's own pool."""
    backend = cache._cache
    client = getattr(backend, "_rate_limit_client", None)
    if client is None:
        client = backend._rate_limit_client = backend.get_client(write=True)
    return client


def _count(key: str, *, ttl: int) -> int:
    """This request's number in the window: one round trip on Redis, a few elsewhere."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        # Django's incr() asks EXISTS before INCR: two round trips on every public request.
        full_key = cache.make_and_validate_key(key)
        pipe = _redis_client(cache).pipeline(transaction=False)
        pipe.incr(full_key)
        pipe.expire(full_key, ttl)  # each window has its own key; it goes ttl after its last use
        count, _ = pipe.execute()
        return count
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request (or its key just expired)
        if cache.add(key, 1, timeout=ttl):
            return 1
        return cache.incr(key)  # another request created it in between


def known_over_limit(request, *, scope: str, window_seconds: int) -> bool:
    """True when this process already found the address over its budget in the current window;
    asks nothing and counts nothing (for work done before the request is counted)."""
    return _over_until_window_ends.get((scope, client_ip(request))) == _window(window_seconds)


def over_limit(request, *, scope: str, limit: int, window_seconds: int) -> bool:
    """True when this address has used up `limit` requests in the current fixed window."""
    if not limit:
        return False
    if known_over_limit(request, scope=scope, window_seconds=window_seconds):
        return True
    ip = client_ip(request)
    key = window_key(scope=scope, ip=ip, window_seconds=window_seconds)
    over = _count(key, ttl=window_seconds + 30) > limit
    if over:
        if len(_over_until_window_ends) >= _REMEMBERED_AT_MOST:
            _over_until_window_ends.clear()  # it only saves round trips: forgetting is safe
        _over_until_window_ends[(scope, ip)] = _window(window_seconds)
    return over


def forget_known_over_limit() -> None:
    """Forget the addresses found over their budget (tests, where each test is a new start)."""
    _over_until_window_ends.clear()
