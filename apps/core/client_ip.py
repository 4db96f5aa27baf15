"""The client's IP address, for per-IP limits (login throttling, self-serve orders) and the order record."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """REMOTE_ADDR, or — behind TRUSTED_PROXY_COUNT reverse proxies that append to X-Forwarded-For — the address the
    outermost of them saw. Entries further left were written by the client and are ignored; anything that is not an
    IP address falls back to REMOTE_ADDR ("" without a request)."""
    if request is None:
        return ""
    remote = request.META.get("REMOTE_ADDR") or ""
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        forwarded = [p.strip() for p in (request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",") if p.strip()]
        if len(forwarded) >= proxies:
            try:
                return str(ipaddress.ip_address(forwarded[-proxies]))
            except ValueError:
                pass
    return remote[:64]
