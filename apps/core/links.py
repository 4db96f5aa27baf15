"""object_url(): reverse() for the URL of one object by its UUID, at the cost of a string replace.

Django's reverse() costs tens of microseconds; a page that links each of its 25–45 rows spent milliseconds on it
(docs/performance.md). A URL pattern with a UUID argument reverses to the same text whatever the UUID, so the
pattern is reversed once with a placeholder UUID and the placeholder replaced afterwards. The cache key holds what
reverse() itself depends on besides the name: the current URLconf and script prefix. Anything that is not a
UUID goes through reverse() as before (its converters check it). URLs without arguments (the navigation's) are
reversed once the same way.
"""

import uuid
from functools import lru_cache

from django.urls import get_script_prefix, get_urlconf, reverse

# Placeholders that no real object has (version 0, a fixed tail); one per keyword argument.
_PLACEHOLDERS = [uuid.UUID(f"00000000-0000-0000-0000-00000f1ace{i:02d}") for i in range(4)]


@lru_cache(maxsize=1024)
def _pattern(name, keys, urlconf, prefix):
    return reverse(name, urlconf=urlconf, kwargs=dict(zip(keys, _PLACEHOLDERS, strict=False)))


def object_url(name, **kwargs):
    """reverse(name, kwargs=kwargs) for UUID keyword arguments (none, or up to four), without reversing each time."""
    if len(kwargs) > len(_PLACEHOLDERS) or not all(isinstance(v, uuid.UUID) for v in kwargs.values()):
        return reverse(name, kwargs=kwargs)
    url = _pattern(name, tuple(kwargs), get_urlconf(), get_script_prefix())
    for placeholder, value in zip(_PLACEHOLDERS, kwargs.values(), strict=False):
        url = url.replace(str(placeholder), str(value))
    return url
