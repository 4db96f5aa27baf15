"""Fixed-window rate limits on Django's cache (per key, per window). Shared across processes only when the cache
is (Redis/Memcached in production; the default local-memory cache limits per process)."""

import hashlib
import ipaddress
import time

from django.conf import settings
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


def client_ip(request) -> str:
    """The caller's address. Behind N trusted reverse proxies (settings.TRUSTED_PROXY_HOPS) it is the Nth address
    from the right of X-Forwarded-For — the entries to its left are whatever the client chose to send."""
    hops = getattr(settings, "TRUSTED_PROXY_HOPS", 0)
    remote = request.META.get("REMOTE_ADDR") or ""
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in (request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",") if part.strip()]
    candidate = forwarded[-hops] if len(forwarded) >= hops else remote
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
