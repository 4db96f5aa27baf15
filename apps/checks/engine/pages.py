"""Reading HTML: the sub-resources a page loads (for mixed content, caching and same-origin JS)."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

# (tag, attribute) pairs a browser fetches; "active" content can change the page (blocked when mixed).
ACTIVE = {("script", "src"), ("iframe", "src"), ("frame", "src"), ("object", "data"), ("embed", "src")}
PASSIVE = {("img", "src"), ("audio", "src"), ("video", "src"), ("source", "src"), ("track", "src"),
           ("video", "poster"), ("input", "src")}
ACTIVE_LINK_RELS = {"stylesheet", "preload", "modulepreload", "prefetch", "manifest", "import"}
PASSIVE_LINK_RELS = {"icon", "apple-touch-icon", "shortcut"}


class _ResourceParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[dict] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = {k: v for k, v in attrs if v is not None}
        if tag == "link":
            rels = set(attrs.get("rel", "").lower().split())
            if "href" in attrs and rels & (ACTIVE_LINK_RELS | PASSIVE_LINK_RELS):
                kind = "active" if rels & ACTIVE_LINK_RELS else "passive"
                self.found.append({"tag": tag, "url": attrs["href"], "kind": kind, "rel": " ".join(sorted(rels))})
            return
        for attr, value in attrs.items():
            if (tag, attr) in ACTIVE:
                self.found.append({"tag": tag, "url": value, "kind": "active"})
            elif (tag, attr) in PASSIVE:
                self.found.append({"tag": tag, "url": value, "kind": "passive"})
        self._in_script = tag == "script" and "src" not in attrs

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline_scripts.append(data)


def resources(html: str) -> list[dict]:
    parser = _ResourceParser()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # malformed markup: keep what was parsed
        pass
    return parser.found


def same_origin(base_url: str, html: str, *, tags=("script",), limit: int = 8) -> list[str]:
    """Absolute URLs of sub-resources on the page's own scheme+host (what the site itself serves)."""
    base = urlsplit(base_url)
    urls = []
    for res in resources(html):
        if res["tag"] not in tags:
            continue
        absolute = urljoin(base_url, res["url"])
        parts = urlsplit(absolute)
        if (parts.scheme, parts.netloc) == (base.scheme, base.netloc) and absolute not in urls:
            urls.append(absolute)
    return urls[:limit]
