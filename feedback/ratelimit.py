"""A small per-IP request budget for the public survey pages, kept in the cache."""

import time

from django.core.cache import cache

from .conf import feedback_setting


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def over_limit(request, *, scope: str) -> bool:
    """True when this IP has used up its requests for the current minute."""
    limit = feedback_setting("PUBLIC_RATE_PER_MINUTE")
    if not limit:
        return False
    key = f"feedback:rate:{scope}:{client_ip(request)}:{int(time.time() // 60)}"
    # Counting first: every request but an address's first in a minute is one increment.
    try:
        count = cache.incr(key)
    except ValueError:  # this minute's first request (or its key just expired)
        if cache.add(key, 1, timeout=90):
            return False
        count = cache.incr(key)  # another request created it in between
    return count > limit
