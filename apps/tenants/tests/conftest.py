import re
from urllib.parse import urlparse

import pytest

# Malformed values every form must turn into field errors (never a 500, never accepted).
MALFORMED = {
    "overlong": "x" * 5001,
    "html": "<script>alert(1)</script>",
    "unicode-controls": "𝔘𝔫𝔦 \u202e \u200b",
    "nul": "abc\x00def",
    "number": "-99999999999999999999",
    "date": "2026-02-31T25:61",
}


@pytest.fixture(autouse=True)
def _email_and_media(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"


def link_in(message) -> str:
    """The path of the (single) link in an email's body, ready for the test client."""
    urls = re.findall(r"https?://\S+", message.body)
    assert len(urls) == 1, message.body
    return urlparse(urls[0]).path
