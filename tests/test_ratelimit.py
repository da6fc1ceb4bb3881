"""The per-IP budget of the public client-link pages, in the site's cache: memory, or Redis as
in production."""

import pytest
from django.core.cache import caches
from django.test import RequestFactory

from cem.ratelimit import over_limit, window_key


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def cache(request, settings):
    if request.param == "memory":
        backend = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    else:  # this test process's Redis database (tests/conftest.py)
        backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": settings.REDIS_URL}
    settings.CACHES = {"default": backend}
    caches["default"].clear()
    yield caches["default"]
    caches["default"].clear()


def ask(n, *, ip="203.0.113.7", limit=3):
    request = RequestFactory().get("/s/x/", REMOTE_ADDR=ip)
    return [over_limit(request, scope="test", limit=limit, window_seconds=60) for _ in range(n)]


def test_an_address_is_over_its_budget_after_limit_requests(cache):
    assert ask(5) == [False, False, False, True, True]


def test_each_address_has_its_own_budget(cache):
    ask(3)

    assert ask(1, ip="198.51.100.2") == [False]


def test_a_window_counter_expires_after_its_window(cache):
    ask(2)
    key = window_key(scope="test", ip="203.0.113.7", window_seconds=60)

    assert cache.get(key) == 2
    if hasattr(cache._cache, "get_client"):  # Redis: the counter carries its own expiry
        client = cache._cache.get_client(cache.make_and_validate_key(key))
        assert 60 <= client.ttl(cache.make_and_validate_key(key)) <= 90


@pytest.mark.redis
def test_redis_counting_builds_its_client_once_per_cache(settings, monkeypatch):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": settings.REDIS_URL}
    }
    cache = caches["default"]
    cache.clear()
    made = []
    build = cache._cache.get_client
    monkeypatch.setattr(cache._cache, "get_client", lambda *a, **kw: made.append(1) or build(*a, **kw))

    assert ask(5) == [False, False, False, True, True]
    assert len(made) == 1
    cache.clear()
