"""HTML → PDF with WeasyPrint, fetching nothing from the network.

Templates reference their assets through two private URL schemes that only `safe_url_fetcher` understands:
`lr-static:<path>` (the product's own static files) and `lr-media:logos/<file>` (an uploaded workspace logo).
Every other URL — http(s), file:, ftp: … — is refused, so client-entered text that smuggles markup past
escaping still could not make the renderer reach out.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.storage import default_storage
from django.template.loader import render_to_string

log = logging.getLogger(__name__)

STATIC_SCHEME = "lr-static:"
MEDIA_SCHEME = "lr-media:"
LOGO_EXTENSIONS = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
STATIC_EXTENSIONS = {".css", ".png", ".jpg", ".jpeg", ".webp", ".woff", ".woff2", ".ttf", ".otf"}


class FetchRefused(Exception):
    """WeasyPrint logs this and renders the document without the resource."""


def _safe_relative(path: str) -> str:
    path = path.lstrip("/")
    parts = Path(path).parts
    if not path or ".." in parts or "\\" in path or "\x00" in path:
        raise FetchRefused(f"refused path {path!r}")
    return path


def _static(path: str):
    from weasyprint.urls import URLFetcherResponse

    path = _safe_relative(path)
    if Path(path).suffix.lower() not in STATIC_EXTENSIONS:
        raise FetchRefused(f"refused static type {path!r}")
    found = finders.find(path)
    if not found:
        raise FetchRefused(f"no static file {path!r}")
    mime = mimetypes.guess_type(found)[0] or "application/octet-stream"
    return URLFetcherResponse(STATIC_SCHEME + path, Path(found).read_bytes(), {"Content-Type": mime})


def _logo(name: str):
    from weasyprint.urls import URLFetcherResponse

    name = _safe_relative(name)
    mime = LOGO_EXTENSIONS.get(Path(name).suffix.lower())
    if not name.startswith("logos/") or mime is None:
        raise FetchRefused(f"refused media {name!r} (only PNG/JPEG/WebP logos)")
    if default_storage.size(name) > settings.LOGO_MAX_BYTES:
        raise FetchRefused(f"logo {name!r} is over the size cap")
    with default_storage.open(name, "rb") as fh:
        data = fh.read(settings.LOGO_MAX_BYTES + 1)
    head = data.lstrip()[:64].lower()
    if len(data) > settings.LOGO_MAX_BYTES or head.startswith((b"<svg", b"<?xml", b"<!doctype")):
        raise FetchRefused(f"refused logo {name!r}")
    return URLFetcherResponse(MEDIA_SCHEME + name, data, {"Content-Type": mime})


def _safe_fetcher_class():
    from weasyprint.urls import URLFetcher

    class SafeURLFetcher(URLFetcher):
        """Our static files and uploaded logos, nothing else: no network, no file:, no data: beyond ours.

        `fetched` and `refused` record every URL asked for (tests and logs read them)."""

        def __init__(self):
            super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
            self.fetched, self.refused = [], []

        def fetch(self, url, headers=None):
            try:
                if url.startswith(STATIC_SCHEME):
                    response = _static(url[len(STATIC_SCHEME):])
                elif url.startswith(MEDIA_SCHEME):
                    response = _logo(url[len(MEDIA_SCHEME):])
                else:
                    raise FetchRefused(f"refused to fetch {url[:200]!r}")
            except FetchRefused:
                self.refused.append(url)
                log.warning("PDF renderer refused to fetch %.200s", url)
                raise
            self.fetched.append(url)
            return response

    return SafeURLFetcher


def safe_url_fetcher():
    """A fresh fetcher per document (WeasyPrint is imported lazily: the web process rarely needs it)."""
    return _safe_fetcher_class()()


def logo_url(workspace) -> str:
    """The fetcher URL of the workspace's logo, or '' when it has none we would serve."""
    name = workspace.logo.name if workspace and workspace.logo else ""
    if not name or Path(name).suffix.lower() not in LOGO_EXTENSIONS:
        return ""
    return MEDIA_SCHEME + name


@dataclass
class Rendered:
    path: str
    pages: int
    seconds: float


def html_for(template: str, context: dict) -> str:
    return render_to_string(template, {**context, "pdf": True})


def render_pdf(html: str, *, url_fetcher=None, directory: str | None = None) -> Rendered:
    """Write the PDF to a new temporary file (the caller moves or deletes it) and return its path and size."""
    from weasyprint import HTML

    started = time.perf_counter()
    url_fetcher = url_fetcher or safe_url_fetcher()
    document = HTML(string=html, base_url=STATIC_SCHEME, url_fetcher=url_fetcher).render()
    fd, path = tempfile.mkstemp(suffix=".pdf", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            document.write_pdf(fh)
    except BaseException:
        os.unlink(path)
        raise
    return Rendered(path=path, pages=len(document.pages), seconds=time.perf_counter() - started)
