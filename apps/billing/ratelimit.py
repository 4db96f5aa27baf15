"""Fixed-window rate limits on Django's cache (per key, per window). Shared across processes only when the cache
is (Redis/Memcached in production; the default local-memory cache limits per process)."""

import hashlib
import time

from django.core.cache import cache


def allow(scope: str, key: str, *, limit: int, window: int = 3600, now: float | None = None) -> bool:
    """Count one attempt for (scope, key) in the current window; False once more than `limit` were made."""
    bucket = int((now if now is not None else time.time()) // window)
    digest = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()[:32]  # emails and IPs never stored as-is
    cache_key = f"ratelimit:{scope}:{digest}:{bucket}"
    cache.add(cache_key, 0, timeout=window + 60)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, timeout=window + 60)
        count = 1
    return count <= limit
