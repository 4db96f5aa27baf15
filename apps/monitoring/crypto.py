"""Channel secrets encrypted at rest: MultiFernet over settings.MONITORING_ENCRYPTION_KEYS.

The first key encrypts, all keys decrypt (rotate by putting a new key first). Without configured keys a key is
derived from SECRET_KEY, which is fine for development and tests only.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


def _fernet() -> MultiFernet:
    keys = [k for k in getattr(settings, "MONITORING_ENCRYPTION_KEYS", []) if k]
    if not keys:
        digest = hashlib.sha256(("monitoring-secrets:" + settings.SECRET_KEY).encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()
