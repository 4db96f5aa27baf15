"""Network profiles by name: the only place the engine meets Django settings.

Which profiles exist is decided here and by settings, never by a user: a Celery task receives a profile *name*.
- "internet": the public internet with the address guard on (settings.LAUNCHREADY_NETWORK, i.e. LAUNCHREADY_* env);
- "testworld": the hermetic test world started by `manage.py testworld`, read from its state file.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from apps.checks.engine.profile import NetworkProfile, ProfileError

PROFILE_NAMES = ("internet", "testworld")


def get_profile(name: str | None = None) -> NetworkProfile:
    name = name or settings.DEFAULT_NETWORK_PROFILE
    try:
        if name == "internet":
            return NetworkProfile.from_settings("internet", **settings.LAUNCHREADY_NETWORK)
        if name == "testworld":
            return NetworkProfile.from_settings("testworld", **_testworld_state())
    except ProfileError as exc:
        raise ImproperlyConfigured(f"network profile {name!r}: {exc}") from None
    raise ImproperlyConfigured(f"unknown network profile {name!r}; known: {', '.join(PROFILE_NAMES)}")


def _testworld_state() -> dict:
    path = settings.TESTWORLD_STATE_FILE
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        raise ImproperlyConfigured(f"the test world is not running ({path} is missing): "
                                   "start it with `python manage.py testworld`") from None
    except ValueError:
        raise ImproperlyConfigured(f"{path} is not valid JSON") from None
    return {key: state.get(key, default) for key, default in
            (("nameservers", []), ("ca_bundle", ""), ("port_map", ""), ("allowed_networks", []))}
