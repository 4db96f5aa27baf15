"""Fixed-window rate limits on Django's cache (per key, per window). Shared across processes only when the cache
is (Redis/Memcached in production; the default local-memory cache limits per process)."""

import hashlib
import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)


def allow(scope: str, key: str, *, limit: int, window: int = 3600, now: float | None = None) -> bool:
    """Count one attempt for (scope, key) in the current window; False once more than `limit` were made.

    If the cache is down the attempt is allowed and the outage logged (as the login throttle does): a buyer gets
    to Stripe Checkout rather than a 500, and nothing is charged before Stripe's own checks."""
    bucket = int((now if now is not None else time.time()) // window)
    digest = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()[:32]  # emails and IPs never stored as-is
    cache_key = f"ratelimit:{scope}:{digest}:{bucket}"
    try:
        cache.add(cache_key, 0, timeout=window + 60)
        try:
            count = cache.incr(cache_key)
        except ValueError:  # evicted between add and incr
            cache.set(cache_key, 1, timeout=window + 60)
            count = 1
    except Exception as exc:  # noqa: BLE001 - any cache backend error
        log.warning("rate limit unavailable, not enforced", extra={"scope": scope, "error": type(exc).__name__})
        return True
    return count <= limit
