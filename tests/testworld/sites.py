"""What each test-world host serves: a declarative table over a good-site default.

Keys of a site: cert (pki variant), http ("redirect" 301 to https, "temporary" 302, "serve" plain page),
redirect_to (every HTTPS request answers 301 there), drop (headers removed from the good set), headers (added or
replaced), html (homepage body), assets (path -> (headers, body)), behaviour ("trickle" | "huge").
"""

from __future__ import annotations

GOOD_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cache-Control": "no-cache",
    "Server": "cloudflare",
    "CF-Ray": "8c1f2a3b4c5d6e7f-AMS",
    "Content-Type": "text/html; charset=utf-8",
}

GOOD_HTML = """<!doctype html><html><head><title>Launch</title>
<link rel="stylesheet" href="/static/site.css">
<script src="/static/app.3f9a1c2e.js"></script></head>
<body><h1>We launch soon</h1><img src="/static/logo.png" alt="logo">
<a href="https://docs.example.com/">docs</a></body></html>"""

GOOD_ASSETS = {
    "/static/app.3f9a1c2e.js": ({"Content-Type": "application/javascript",
                                 "Cache-Control": "public, max-age=31536000, immutable"},
                                "console.log('ready');fetch('/api/health');"),
    "/static/site.css": ({"Content-Type": "text/css", "Cache-Control": "public, max-age=86400"}, "body{margin:0}"),
    "/static/logo.png": ({"Content-Type": "image/png", "Cache-Control": "public, max-age=86400"}, "PNG"),
}

UNCACHED_ASSETS = {path: ({"Content-Type": h["Content-Type"]}, body) for path, (h, body) in GOOD_ASSETS.items()}

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options")

SITES: dict[str, dict] = {
    "good.lrtest": {},
    "www.good.lrtest": {"redirect_to": "https://good.lrtest"},
    "app.good.lrtest": {},
    "api.good.lrtest": {},
    "docs.good.lrtest": {},
    "status.good.lrtest": {},
    "dead.lrtest": {},
    "halfdead.lrtest": {},
    "nocaa.lrtest": {},
    # certificates
    "expired.lrtest": {"cert": "expired"},
    "expiring.lrtest": {"cert": "expiring"},
    "wronghost.lrtest": {"cert": "wronghost"},
    "selfsigned.lrtest": {"cert": "selfsigned"},
    "unknownca.lrtest": {"cert": "unknownca"},
    "incomplete.lrtest": {"cert": "incomplete"},
    "weakkey.lrtest": {"cert": "weakkey"},
    "legacy.lrtest": {},
    "ancient.lrtest": {},
    # redirects and canonical names
    "noredirect.lrtest": {"http": "serve"},
    "tempredirect.lrtest": {"http": "temporary"},
    "both.lrtest": {},
    "www.both.lrtest": {},
    "loop.lrtest": {"redirect_to": "https://www.loop.lrtest"},
    "www.loop.lrtest": {"redirect_to": "https://loop.lrtest"},
    "chain.lrtest": {"redirect_chain": {"/hop1": "/hop2", "/hop2": "/hop3", "/hop3": "/"}},
    "www.chain.lrtest": {"redirect_to": "https://chain.lrtest/hop1", "keep_path": False},
    # headers
    "nohsts.lrtest": {"drop": ["Strict-Transport-Security"]},
    "shorthsts.lrtest": {"headers": {"Strict-Transport-Security": "max-age=86400"}},
    "bare.lrtest": {"drop": ["Strict-Transport-Security", *SECURITY_HEADERS]},
    "partial.lrtest": {"drop": ["Referrer-Policy"]},
    # content
    "mixed.lrtest": {"html": GOOD_HTML.replace('src="/static/app.3f9a1c2e.js"',
                                               'src="http://cdn.mixed.lrtest/app.js"')},
    "passive.lrtest": {"html": GOOD_HTML.replace('src="/static/logo.png"', 'src="http://img.passive.lrtest/a.png"')},
    "devrefs.lrtest": {"html": GOOD_HTML.replace("<h1>", '<script>window.API="http://localhost:3000/api"</script>'
                                                 "<h1>")},
    "jsrefs.lrtest": {"assets": {**GOOD_ASSETS, "/static/app.3f9a1c2e.js": (
        GOOD_ASSETS["/static/app.3f9a1c2e.js"][0], "const api='http://127.0.0.1:8000/graphql';")}},
    # caching and the edge
    "nocache.lrtest": {"assets": UNCACHED_ASSETS},
    "cookiecache.lrtest": {"headers": {"Cache-Control": "public, max-age=600", "Set-Cookie": "session=abc; Secure"}},
    "origin.lrtest": {"drop": ["Server", "CF-Ray"], "headers": {"Server": "nginx/1.25"}},
    # bad servers speaking over HTTP
    "trickle.lrtest": {"behaviour": "trickle"},
    "huge.lrtest": {"behaviour": "huge"},
    "redirector.lrtest": {},
    "bait.lrtest": {},
}


def site_for(host: str) -> dict | None:
    return SITES.get(host.lower())


def cert_variant(host: str) -> str:
    site = site_for(host) or {}
    return site.get("cert", "valid")


def valid_cert_names() -> list[str]:
    return ["good.lrtest", *sorted(set(SITES) - {"good.lrtest"}), "127.0.0.1"]
