"""Login throttling: failed attempts are counted per account and client IP, per IP, and per account in Django's cache.

After LOGIN_FAILURES_PER_ACCOUNT failures for one address from one IP (or LOGIN_FAILURES_PER_IP from one IP, or
LOGIN_FAILURES_PER_ACCOUNT_ANY_IP for one address from everywhere) within LOGIN_LOCKOUT_SECONDS, further attempts
are refused until the window ends, even with the right password — so a guesser cannot tell a hit from a miss while
locked. The per-account lock counts per IP first: someone guessing from their own machine locks themselves out, not
the account's owner (five bad guesses every quarter hour used to keep anyone out); the much higher any-IP ceiling
still stops guessing spread over many addresses. A successful login or a password reset clears the account's
counters for that IP and the any-IP one (not the IP's own).
Counters live in the default cache: with several web processes it must be shared (Redis in production, see settings).
"""

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)


def _setting(name, default):
    return getattr(settings, name, default)


def _key(kind: str, value: str) -> str:
    # Hashed: cache keys must be short and printable, and an email address need not sit in Redis in clear.
    return f"login-failures:{kind}:{hashlib.sha256(value.encode('utf-8', 'replace')).hexdigest()[:32]}"


def _account_keys(email: str, ip: str):
    account = email.strip().lower()
    keys = [(_key("account", account), _setting("LOGIN_FAILURES_PER_ACCOUNT_ANY_IP", 50))]
    if ip:
        keys.append((_key("account-ip", f"{account}|{ip}"), _setting("LOGIN_FAILURES_PER_ACCOUNT", 5)))
    return keys


def _keys(email: str, ip: str):
    keys = _account_keys(email, ip) if email else []
    if ip:
        keys.append((_key("ip", ip), _setting("LOGIN_FAILURES_PER_IP", 20)))
    return keys


# If the cache (Redis) is down, logins keep working unthrottled (django-otp's own per-device back-off still
# applies to codes) rather than every login failing with a 500; the outage is logged.
def is_locked(email: str, ip: str) -> bool:
    """True when the account or the IP has used up its failed attempts for this window."""
    try:
        return any((cache.get(key) or 0) >= limit for key, limit in _keys(email, ip))
    except Exception as exc:  # noqa: BLE001 - any cache backend error
        log.warning("login throttle unavailable, not enforced", extra={"error": type(exc).__name__})
        return False


def record_failure(email: str, ip: str) -> None:
    window = _setting("LOGIN_LOCKOUT_SECONDS", 15 * 60)
    try:
        for key, _limit in _keys(email, ip):
            # add() starts the window only once; incr() keeps the original expiry.
            cache.add(key, 0, timeout=window)
            try:
                cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.set(key, 1, timeout=window)
    except Exception as exc:  # noqa: BLE001
        log.warning("login throttle unavailable, failure not counted", extra={"error": type(exc).__name__})


def clear_account(email: str, ip: str) -> None:
    if email:
        try:
            cache.delete_many([key for key, _limit in _account_keys(email, ip)])
        except Exception as exc:  # noqa: BLE001
            log.warning("login throttle unavailable, counter not cleared", extra={"error": type(exc).__name__})


def locked_message() -> str:
    minutes = max(1, _setting("LOGIN_LOCKOUT_SECONDS", 15 * 60) // 60)
    return f"Too many failed attempts. Wait {minutes} minutes, or reset your password, then try again."
