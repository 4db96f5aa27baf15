"""Channel secrets encrypted at rest: MultiFernet over settings.MONITORING_ENCRYPTION_KEYS.

The first key encrypts, all keys decrypt. Rotate by putting a new key first, running
`python manage.py rotate_encryption_keys` (re-encrypts every stored secret with the first key), then dropping the
old key (docs/operations.md). Without configured keys a key is derived from SECRET_KEY — and from each of
SECRET_KEY_FALLBACKS, so a SECRET_KEY rotation done the documented way keeps the secrets readable — which is fine
for development and tests only (`check --deploy` warns).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


def _derived(secret_key: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(("monitoring-secrets:" + secret_key).encode()).digest()).decode()


def _fernet() -> MultiFernet:
    keys = [k for k in getattr(settings, "MONITORING_ENCRYPTION_KEYS", []) if k]
    if not keys:
        keys = [_derived(k) for k in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])] if k]
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def reencrypt(token: str) -> str:
    """The same value encrypted with the current first key (raises InvalidToken if no key decrypts it)."""
    return _fernet().rotate(token.encode()).decode()
