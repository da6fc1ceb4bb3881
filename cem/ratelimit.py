"""A per-IP request budget for the public client-link pages, counted in the shared cache."""

import time

from django.core.cache import cache


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def over_limit(request, *, scope: str, limit: int, window_seconds: int) -> bool:
    """True when this address has used up `limit` requests in the current fixed window."""
    if not limit:
        return False
    window = int(time.time() // window_seconds)
    key = f"rate:{scope}:{client_ip(request)}:{window}"
    # Counting first: every request but an address's first in a window is one increment.
    try:
        count = cache.incr(key)
    except ValueError:  # the window's first request (or its key just expired)
        if cache.add(key, 1, timeout=window_seconds + 30):
            return False
        count = cache.incr(key)  # another request created it in between
    return count > limit
