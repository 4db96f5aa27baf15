"""Stage 3 edge checks: edge.cdn, edge.caching, edge.reachable."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlsplit

from .net import DEAD_KINDS, NetError
from .pages import same_origin
from .registry import check
from .runner import error_finding, make_finding

# header -> provider; a value regex (or None for "present")
CDN_HEADERS = (
    ("cf-ray", None, "Cloudflare"),
    ("server", r"cloudflare", "Cloudflare"),
    ("x-amz-cf-id", None, "CloudFront"),
    ("via", r"cloudfront", "CloudFront"),
    ("x-fastly-request-id", None, "Fastly"),
    ("x-served-by", r"cache-", "Fastly"),
    ("x-vercel-id", None, "Vercel"),
    ("x-nf-request-id", None, "Netlify"),
    ("server", r"akamaighost", "Akamai"),
    ("x-akamai-transformed", None, "Akamai"),
    ("x-azure-ref", None, "Azure Front Door"),
    ("x-cdn", None, "CDN"),
)
CDN_CNAME_SUFFIXES = (
    ("cdn.cloudflare.net", "Cloudflare"), ("cloudfront.net", "CloudFront"), ("fastly.net", "Fastly"),
    ("edgekey.net", "Akamai"), ("akamaiedge.net", "Akamai"), ("vercel-dns.com", "Vercel"),
    ("netlify.app", "Netlify"), ("azureedge.net", "Azure CDN"), ("cdn-edge.lrtest", "Test CDN"),
)
HASHED_NAME = re.compile(r"[.-][0-9a-f]{8,}\.|[.-][A-Za-z0-9_-]{8,}\.(?:js|css|mjs)$")
PAGE_ROLES = ("apex", "www", "app")
REACHABLE_ROLES = ("docs", "auth", "status", "other")
MIN_ASSET_AGE = 3600
MIN_HASHED_AGE = 30 * 86400


@check("edge.cdn")
async def cdn(target, net, host):
    answer = await net.lookup(host, "A")
    resp = await net.fetch(f"https://{host}/")
    signals = []
    for header, pattern, provider in CDN_HEADERS:
        value = resp.header(header)
        if value is not None and (pattern is None or re.search(pattern, value, re.I)):
            signals.append({"header": header, "value": value, "provider": provider})
    for name in answer.cname_chain:
        for suffix, provider in CDN_CNAME_SUFFIXES:
            if name == suffix or name.endswith("." + suffix):
                signals.append({"cname": name, "provider": provider})
    evidence = {"url": resp.url, "ip": resp.ip, "cname_chain": answer.cname_chain, "signals": signals,
                "server": resp.header("server")}
    if signals:
        provider = signals[0]["provider"]
        evidence["provider"] = provider
        return [make_finding("edge.cdn", host, "pass", f"{host} is served through {provider}.", evidence)]
    return [make_finding("edge.cdn", host, "warn",
                         f"No CDN or DDoS proxy in front of {host}: the origin server ({resp.ip}) is exposed.",
                         evidence, "Put the site behind a CDN/proxy (Cloudflare, CloudFront, Fastly...) and let the "
                         "origin accept traffic only from it.")]


def _cache_control(value: str | None) -> dict[str, str | bool]:
    directives = {}
    for part in (value or "").split(","):
        key, _, val = part.strip().partition("=")
        if key:
            directives[key.lower()] = val.strip('"') if val else True
    return directives


def _max_age(cc: dict) -> int:
    for key in ("s-maxage", "max-age"):
        try:
            return int(cc[key])
        except (KeyError, ValueError, TypeError):
            continue
    return 0


@check("edge.caching")
async def caching(target, net, host):
    if target.roles.get(host) not in PAGE_ROLES:
        return []
    chain = await net.follow(f"https://{host}/")
    page = chain.final
    if page is None:
        if chain.error:
            return [error_finding("edge.caching", host, chain.error)]
        return [make_finding("edge.caching", host, "error", f"Could not load the page of {host}.", chain.evidence())]
    if urlsplit(page.url).hostname != host:
        return [make_finding("edge.caching", host, "skipped",
                             f"{host} redirects to {urlsplit(page.url).hostname}; caching is checked there.",
                             {"final_url": page.url})]
    page_cc = _cache_control(page.header("cache-control"))
    cookie = page.header("set-cookie")
    evidence = {"url": page.url, "page_cache_control": page.header("cache-control"), "page_sets_cookie": bool(cookie)}
    if cookie and "private" not in page_cc and "no-store" not in page_cc and (
            "public" in page_cc or _max_age(page_cc) > 0):
        return [make_finding("edge.caching", host, "fail",
                             f"The page of {host} sets a cookie but may be cached publicly "
                             f"(Cache-Control: {page.header('cache-control')}); a CDN could serve one visitor's "
                             "session to another.", evidence,
                             "Send `Cache-Control: private, no-store` on any response that sets a cookie.",
                             severity="high")]
    assets = same_origin(page.url, page.text, tags=("script", "link", "img"), limit=8)
    responses = await asyncio.gather(*(net.fetch(u, read_body=False) for u in assets), return_exceptions=True)
    rows, problems = [], []
    for url, resp in zip(assets, responses, strict=True):
        if isinstance(resp, BaseException):
            rows.append({"url": url, "error": str(resp)})
            continue
        cc = _cache_control(resp.header("cache-control"))
        age = _max_age(cc)
        hashed = bool(HASHED_NAME.search(urlsplit(url).path))
        row = {"url": url, "status": resp.status, "cache_control": resp.header("cache-control"), "max_age": age,
               "hashed": hashed, "immutable": "immutable" in cc}
        if "no-store" in cc or age < MIN_ASSET_AGE:
            row["problem"] = "not cacheable"
        elif hashed and age < MIN_HASHED_AGE and "immutable" not in cc:
            row["problem"] = "hashed name but short max-age and no immutable"
        if "problem" in row:
            problems.append(row)
        rows.append(row)
    evidence["assets"] = rows
    if assets and all("error" in r for r in rows):
        return [make_finding("edge.caching", host, "error", f"Could not fetch any static asset of {host}.", evidence)]
    if problems:
        return [make_finding("edge.caching", host, "warn",
                             f"{len(problems)} of {len(assets)} static asset(s) of {host} are not cacheable "
                             f"(e.g. {problems[0]['url']}).", evidence,
                             "Serve static assets with `Cache-Control: public, max-age=31536000, immutable` "
                             "(hashed file names) or at least a max-age of a day.")]
    return [make_finding("edge.caching", host, "pass",
                         f"{len(assets)} static asset(s) of {host} are cacheable and the page is not publicly cached "
                         "with cookies.", evidence)]


@check("edge.reachable")
async def reachable(target, net, host):
    urls = [(kind, url) for kind, url in target.endpoints_on(host) if kind != "chat"]
    if target.roles.get(host) in REACHABLE_ROLES and not any(u == f"https://{host}/" for _, u in urls):
        urls.append(("hostname", f"https://{host}/"))

    async def one(kind, url):
        chain = await net.follow(url)
        evidence = {"kind": kind, **chain.evidence()}
        if chain.error:
            exc: NetError = chain.error
            if exc.kind in DEAD_KINDS or exc.kind == "tls_verify":
                return make_finding("edge.reachable", url, "fail", f"{url} is dead: {exc.reason}.", evidence,
                                    "Point the name at a live server, or remove the link/hostname before launch.")
            return error_finding("edge.reachable", url, exc)
        if chain.loop or chain.too_long:
            return make_finding("edge.reachable", url, "fail", f"{url} never loads: its redirects loop.", evidence,
                                "Fix the redirect rules so the URL ends on a page.")
        final = chain.final
        evidence["final_status"] = final.status
        if 200 <= final.status < 300:
            return make_finding("edge.reachable", url, "pass", f"{url} answers {final.status}.", evidence)
        if final.status in (401, 403):
            return make_finding("edge.reachable", url, "warn",
                                f"{url} answers {final.status}: it needs a login. Fine if intended.", evidence,
                                "Make sure public links (docs, auth callbacks) do not require a login.",
                                severity="low")
        return make_finding("edge.reachable", url, "fail", f"{url} answers {final.status}.", evidence,
                            "Deploy the page or fix the link; users and auth callbacks will hit this error.")

    return list(await asyncio.gather(*(one(k, u) for k, u in urls)))
