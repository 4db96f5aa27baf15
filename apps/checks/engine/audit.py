"""Stage 1 audit checks: audit.resolves, audit.localhost_refs, audit.slow_routes."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlsplit

from .net import DEAD_KINDS, NetError
from .pages import same_origin
from .registry import check
from .runner import error_finding, make_finding

# URLs pointing at a developer's machine or a staging deployment, as they leak into built bundles.
DEV_URL = re.compile(
    r"""(?ix)
    (?:https?:)?//
    (?P<host>localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\]
       |[a-z0-9-]+(?:\.[a-z0-9-]+)*\.local
       |(?:[a-z0-9-]+\.)*(?:staging|stg)(?:[.-][a-z0-9-]+)*\.[a-z]{2,})
    (?::\d{2,5})?\b
    |\blocalhost:\d{2,5}\b
    """)
PAGE_ROLES = ("apex", "www", "app")


@check("audit.resolves")
async def resolves(target, net, host):
    try:
        ips = await net.addresses(host)
    except NetError as exc:
        if exc.kind in ("nxdomain", "no_address"):
            return [make_finding("audit.resolves", host, "fail", f"{host} does not resolve: {exc.reason}.",
                                 exc.evidence(),
                                 f"Add an A/AAAA (or CNAME) record for {host} at your DNS provider, or remove the "
                                 "hostname from the launch plan.")]
        raise
    answer = await net.lookup(host, "A")
    evidence = {"addresses": ips, "cname_chain": answer.cname_chain}
    refused = {ip: net.profile.refusal_reason(ip) for ip in ips}
    if all(refused.values()):
        evidence["refusals"] = refused
        return [make_finding("audit.resolves", host, "warn",
                             f"{host} resolves only to non-public addresses ({', '.join(ips)}); visitors cannot "
                             "reach it.", evidence,
                             "Point the record at the public address of your host or CDN.")]
    return [make_finding("audit.resolves", host, "pass", f"{host} resolves to {', '.join(ips)}.", evidence)]


@check("audit.localhost_refs")
async def localhost_refs(target, net, host):
    if target.roles.get(host) not in PAGE_ROLES:
        return []
    chain = await net.follow(f"https://{host}/")
    page = chain.final
    if page is None:
        if chain.error:
            return [error_finding("audit.localhost_refs", host, chain.error)]
        return [make_finding("audit.localhost_refs", host, "error", f"Could not load the page of {host}.",
                             chain.evidence())]
    if urlsplit(page.url).hostname != host:
        return [make_finding("audit.localhost_refs", host, "skipped",
                             f"{host} redirects to {urlsplit(page.url).hostname}; its page is checked there.",
                             {"final_url": page.url})]
    if page.truncated:
        return [make_finding("audit.localhost_refs", host, "error",
                             f"The page of {host} is larger than {net.profile.max_body_bytes} bytes; not scanned.",
                             {"error": "too_large", "url": page.url, "cap_bytes": net.profile.max_body_bytes})]
    scripts = same_origin(page.url, page.text, tags=("script",), limit=5)
    fetched = await asyncio.gather(*(net.fetch(u) for u in scripts), return_exceptions=True)
    sources = [(page.url, page.text)]
    unread = []
    for url, resp in zip(scripts, fetched, strict=True):
        if isinstance(resp, BaseException):
            unread.append({"url": url, "error": str(resp)})
        else:
            sources.append((url, resp.text))
    matches = []
    for url, text in sources:
        for m in DEV_URL.finditer(text):
            matches.append({"url": url, "match": m.group(0)})
    evidence = {"scanned": [u for u, _ in sources], "matches": matches[:20], "unread": unread}
    if matches:
        where = sorted({m["url"] for m in matches})
        return [make_finding("audit.localhost_refs", host, "fail",
                             f"{host} ships {len(matches)} reference(s) to a development or staging address "
                             f"(e.g. {matches[0]['match']}).", evidence,
                             "Replace hard-coded development URLs with production ones (use an environment "
                             f"variable at build time), rebuild and redeploy. Found in: {', '.join(where)}.")]
    return [make_finding("audit.localhost_refs", host, "pass",
                         f"No localhost or staging URLs in the page and {len(sources) - 1} script(s) of {host}.",
                         evidence)]


@check("audit.slow_routes")
async def slow_routes(target, net, host):
    urls = [(kind, url) for kind, url in target.endpoints_on(host) if kind != "chat"]
    if not urls and host == target.domain and not any(target.endpoints.get(k) for k in ("homepage",)):
        urls = [("homepage", f"https://{host}/")]
    warn_ms = int(target.option("slow_warn_ms", 1000))
    fail_ms = int(target.option("slow_fail_ms", 3000))

    async def one(kind, url):
        try:
            resp = await net.fetch(url)
        except NetError as exc:
            if exc.kind in ("request_timeout", "read_timeout"):
                return make_finding("audit.slow_routes", url, "error",
                                    f"The {kind} route did not answer in time: {exc.reason}.", exc.evidence(),
                                    "Find what blocks this route (cold start, slow query, external call).")
            return error_finding("audit.slow_routes", url, exc)
        evidence = {**resp.summary(), "kind": kind, "budget_warn_ms": warn_ms, "budget_fail_ms": fail_ms}
        if resp.total_ms > fail_ms:
            status, word = "fail", "far over"
        elif resp.total_ms > warn_ms:
            status, word = "warn", "over"
        else:
            return make_finding("audit.slow_routes", url, "pass",
                                f"The {kind} route answered in {resp.total_ms} ms (budget {warn_ms} ms).", evidence)
        return make_finding("audit.slow_routes", url, status,
                            f"The {kind} route took {resp.total_ms} ms, {word} its {warn_ms} ms budget "
                            f"(first byte after {resp.ttfb_ms} ms).", evidence,
                            "Profile the route: cache or precompute the slow part, add database indexes, or "
                            "move slow work to a background job.")

    return list(await asyncio.gather(*(one(k, u) for k, u in urls)))


def is_dead(exc: NetError) -> bool:
    return exc.kind in DEAD_KINDS
