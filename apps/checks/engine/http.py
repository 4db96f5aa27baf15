"""Stage 3 HTTP checks: https_redirect, canonical, hsts, security_headers, mixed_content."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urljoin, urlsplit

from .net import NetError
from .pages import resources
from .registry import check
from .runner import error_finding, make_finding

HSTS_MIN_AGE = 15552000  # 180 days
MAX_CANONICAL_HOPS = 2


async def final_page(net, host: str, check_id: str):
    """(page, None) for the page https://host/ ends on, or (None, finding) saying why there is none."""
    chain = await net.follow(f"https://{host}/")
    if chain.final is not None:
        return chain.final, None
    if chain.error:
        return None, error_finding(check_id, host, chain.error)
    why = "redirect loop" if chain.loop else "too many redirects"
    return None, make_finding(check_id, host, "error", f"Could not load the page of {host}: {why}.", chain.evidence(),
                              "Fix the redirects (see http.canonical).")


@check("http.https_redirect")
async def https_redirect(target, net, host):
    url = f"http://{host}/"
    try:
        first = await net.fetch(url)
    except NetError as exc:
        if exc.kind == "connect_refused":
            return [make_finding("http.https_redirect", host, "warn",
                                 f"{host} does not answer plain HTTP (port 80); people typing the name may see an "
                                 "error.", exc.evidence(),
                                 "Open port 80 and answer every request with a 301 to https://.", severity="medium")]
        raise
    evidence = {"url": url, "status": first.status, "location": first.location, "ip": first.ip}
    loc = first.location
    if not loc:
        return [make_finding("http.https_redirect", host, "fail",
                             f"http://{host}/ serves the site over plain HTTP (status {first.status}) instead of "
                             "redirecting to HTTPS.", evidence,
                             "Redirect every http:// request to https:// with a 301 (most hosts and CDNs have an "
                             "'Always use HTTPS' switch).")]
    parts = urlsplit(loc)
    if parts.scheme != "https":
        chain = await net.follow(url)
        final = chain.final
        evidence["chain"] = chain.evidence()["hops"]
        if final is not None and final.url.startswith("https://"):
            return [make_finding("http.https_redirect", host, "warn",
                                 f"http://{host}/ reaches HTTPS only after going through {loc}.", evidence,
                                 f"Make the first redirect go straight to https://{host}/.", severity="medium")]
        return [make_finding("http.https_redirect", host, "fail",
                             f"http://{host}/ redirects to {loc} and never reaches HTTPS.", evidence,
                             "Redirect every http:// request to https:// with a 301.")]
    if parts.hostname != host:
        return [make_finding("http.https_redirect", host, "warn",
                             f"http://{host}/ redirects to another host ({parts.hostname}) before HTTPS on the same "
                             "host, so this name's HSTS policy is never seen.", evidence,
                             f"Redirect to https://{host}/ first, then to the canonical host.", severity="low")]
    if first.status not in (301, 308):
        return [make_finding("http.https_redirect", host, "warn",
                             f"http://{host}/ redirects to HTTPS with a temporary {first.status}; browsers and "
                             "search engines will keep trying plain HTTP.", evidence,
                             "Use a permanent redirect (301 or 308).", severity="low")]
    return [make_finding("http.https_redirect", host, "pass",
                         f"http://{host}/ redirects permanently ({first.status}) to HTTPS.", evidence)]


@check("http.canonical", scope="target")
async def canonical(target, net):
    apex, www = target.domain, f"www.{target.domain}"
    if www not in target.hostnames:
        return [make_finding("http.canonical", apex, "skipped",
                             f"www.{apex} is not declared; declare it to check which of the two is canonical.")]
    chains = await asyncio.gather(net.follow(f"https://{apex}/"), net.follow(f"https://{www}/"))
    evidence = {"apex": chains[0].evidence(), "www": chains[1].evidence()}
    for name, chain in zip((apex, www), chains, strict=True):
        if chain.loop or chain.too_long:
            what = "loops" if chain.loop else f"takes more than {net.profile.max_redirects} redirects"
            return [make_finding("http.canonical", apex, "fail", f"https://{name}/ {what}; the site never loads.",
                                 evidence, "Make one host serve the site and have the other redirect to it once "
                                 "(check CDN and app redirect rules do not fight each other).")]
    for name, chain in zip((apex, www), chains, strict=True):
        if chain.error:
            return [make_finding("http.canonical", apex, "error",
                                 f"Could not follow https://{name}/: {chain.error.reason}.", evidence,
                                 "Make both names answer over HTTPS, then scan again.")]
    finals = [urlsplit(c.final.url).hostname for c in chains]
    redirects = [c.redirects for c in chains]
    evidence.update({"final_hosts": finals, "redirects": redirects})
    if redirects == [0, 0]:
        return [make_finding("http.canonical", apex, "fail",
                             f"Both {apex} and {www} serve the site; search engines see two copies.", evidence,
                             f"Pick one (usually {apex} or {www}) and 301-redirect the other to it.")]
    if finals[0] != finals[1]:
        return [make_finding("http.canonical", apex, "fail",
                             f"{apex} ends on {finals[0]} but {www} ends on {finals[1]}; there is no single "
                             "canonical host.", evidence, "Redirect both names to the same canonical host.")]
    canonical_host = finals[0]
    evidence["canonical"] = canonical_host
    if max(redirects) > MAX_CANONICAL_HOPS:
        return [make_finding("http.canonical", apex, "warn",
                             f"Reaching {canonical_host} takes {max(redirects)} redirects (more than "
                             f"{MAX_CANONICAL_HOPS}); every hop costs visitors a round trip.", evidence,
                             f"Redirect straight to https://{canonical_host}/ in one hop.", severity="low")]
    return [make_finding("http.canonical", apex, "pass",
                         f"{canonical_host} is the canonical host; the other name redirects to it in "
                         f"{max(redirects)} hop(s).", evidence)]


_MAX_AGE = re.compile(r"max-age\s*=\s*\"?(\d+)\"?", re.I)


@check("http.hsts")
async def hsts(target, net, host):
    resp = await net.fetch(f"https://{host}/")
    value = resp.header("strict-transport-security")
    evidence = {"url": resp.url, "status": resp.status, "header": value}
    fix = ("Send `Strict-Transport-Security: max-age=31536000; includeSubDomains` on every HTTPS response "
           "(once every subdomain serves HTTPS).")
    if not value:
        return [make_finding("http.hsts", host, "fail", f"{host} sends no Strict-Transport-Security header.",
                             evidence, fix)]
    match = _MAX_AGE.search(value)
    max_age = int(match.group(1)) if match else None
    directives = {d.strip().lower() for d in value.split(";")}
    evidence.update({"max_age": max_age, "include_subdomains": "includesubdomains" in directives,
                     "preload": "preload" in directives})
    if max_age is None:
        return [make_finding("http.hsts", host, "fail", f"The HSTS header of {host} has no valid max-age.",
                             evidence, fix)]
    if max_age < HSTS_MIN_AGE:
        return [make_finding("http.hsts", host, "warn",
                             f"The HSTS max-age of {host} is {max_age} s, below 180 days ({HSTS_MIN_AGE} s).",
                             evidence, fix, severity="low")]
    sub = "with includeSubDomains" if evidence["include_subdomains"] else "without includeSubDomains"
    return [make_finding("http.hsts", host, "pass", f"{host} sends HSTS for {max_age // 86400} days, {sub}.",
                         evidence)]


@check("http.security_headers")
async def security_headers(target, net, host):
    page, problem = await final_page(net, host, "http.security_headers")
    if problem:
        return [problem]
    csp = page.header("content-security-policy")
    present = {
        "content-security-policy": bool(csp),
        "x-content-type-options": (page.header("x-content-type-options") or "").strip().lower() == "nosniff",
        "frame-ancestors": bool(page.header("x-frame-options")) or "frame-ancestors" in (csp or "").lower(),
        "referrer-policy": bool(page.header("referrer-policy")),
    }
    missing = [name for name, ok in present.items() if not ok]
    evidence = {"url": page.url, "present": present, "missing": missing,
                "headers": {k: page.header(k) for k in ("content-security-policy", "x-content-type-options",
                                                        "x-frame-options", "referrer-policy")}}
    if page.header("content-security-policy-report-only") and not csp:
        evidence["note"] = "only Content-Security-Policy-Report-Only is set; it does not enforce anything"
    fix = ("Add the missing headers at the app or CDN: `Content-Security-Policy` (with `frame-ancestors 'self'`), "
           "`X-Content-Type-Options: nosniff`, `Referrer-Policy: strict-origin-when-cross-origin`.")
    if not missing:
        return [make_finding("http.security_headers", host, "pass", f"{host} sends all four security headers.",
                             evidence)]
    status = "fail" if len(missing) >= 3 else "warn"
    return [make_finding("http.security_headers", host, status,
                         f"{host} is missing {len(missing)} security header(s): {', '.join(missing)}.", evidence, fix,
                         severity=None if status == "fail" else "low")]


@check("http.mixed_content")
async def mixed_content(target, net, host):
    page, problem = await final_page(net, host, "http.mixed_content")
    if problem:
        return [problem]
    if not page.url.startswith("https://"):
        return [make_finding("http.mixed_content", host, "error", f"The page of {host} is not served over HTTPS.",
                             {"url": page.url}, "Serve the site over HTTPS (see http.https_redirect).")]
    if page.truncated:
        return [make_finding("http.mixed_content", host, "error",
                             f"The page of {host} is larger than {net.profile.max_body_bytes} bytes; not scanned.",
                             {"error": "too_large", "url": page.url})]
    insecure = [{**r, "url": urljoin(page.url, r["url"])} for r in resources(page.text)
                if urljoin(page.url, r["url"]).startswith("http://")]
    active = [r for r in insecure if r["kind"] == "active"]
    evidence = {"url": page.url, "insecure": insecure[:20], "active": len(active),
                "passive": len(insecure) - len(active)}
    fix = "Load every script, stylesheet, image and frame over https:// (or a relative URL)."
    if active:
        return [make_finding("http.mixed_content", host, "fail",
                             f"{host} loads {len(active)} script/style/frame(s) over plain HTTP, which browsers block "
                             f"(e.g. {active[0]['url']}).", evidence, fix)]
    if insecure:
        return [make_finding("http.mixed_content", host, "warn",
                             f"{host} loads {len(insecure)} image/media file(s) over plain HTTP "
                             f"(e.g. {insecure[0]['url']}).", evidence, fix, severity="low")]
    return [make_finding("http.mixed_content", host, "pass", f"Everything on the page of {host} loads over HTTPS.",
                         evidence)]
