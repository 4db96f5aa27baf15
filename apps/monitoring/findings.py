"""`obs.monitors` and `obs.health` (SPEC.md stage 6) as engine Findings, computed from monitoring's data.

Plain functions of a client, for the scan pipeline to call next to the engine's families (they need the database,
which the engine itself never touches).
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

from apps.checks.engine.findings import Finding
from apps.checks.engine.net import ScanNet
from apps.checks.engine.scoring import CHECK_SEVERITY
from apps.checks.profiles import get_profile

REQUIRED_KINDS = ("homepage", "login", "health", "chat")
MAX_INTERVAL_SECONDS = 60
HEALTH_FAST_MS = 1000


def monitored_kinds(client) -> dict[str, list]:
    """Endpoint kind -> enabled, unpaused monitors covering it (by endpoint link, same URL, or the site root)."""
    urls_by_kind: dict[str, set[str]] = {}
    for kind, url in client.endpoints.values_list("kind", "url"):
        urls_by_kind.setdefault(kind, set()).add(url.rstrip("/"))
    covered: dict[str, list] = {kind: [] for kind in REQUIRED_KINDS}
    for m in client.monitors.filter(enabled=True, paused=False).select_related("endpoint"):
        kinds = {m.endpoint.kind} if m.endpoint else set()
        kinds |= {k for k, urls in urls_by_kind.items() if m.url.rstrip("/") in urls}
        if (urlsplit(m.url).path or "/") == "/":
            kinds.add("homepage")
        for kind in kinds & set(REQUIRED_KINDS):
            covered[kind].append(m)
    return covered


def obs_monitors(client) -> Finding:
    covered = monitored_kinds(client)
    missing = [k for k in REQUIRED_KINDS if not covered[k]]
    slow = sorted({k for k, ms in covered.items() if ms and min(m.interval_seconds for m in ms) > MAX_INTERVAL_SECONDS})
    channels = list(client.alert_channels.filter(enabled=True).exclude(owner="").exclude(verified_at=None)
                    .values_list("name", "owner"))
    evidence = {"monitored": {k: [m.url for m in ms] for k, ms in covered.items()}, "missing": missing,
                "interval_over_60s": slow, "verified_channels": [f"{n} (owner {o})" for n, o in channels]}
    problems = []
    if missing:
        problems.append(f"not monitored: {', '.join(missing)}")
    if slow:
        problems.append(f"checked less than once a minute: {', '.join(slow)}")
    if not channels:
        problems.append("no owned alert channel has passed a test alert")
    if problems:
        return Finding("obs.monitors", client.domain, "fail", CHECK_SEVERITY["obs.monitors"],
                       "Monitoring is incomplete: " + "; ".join(problems) + ".", evidence,
                       "Add a monitor for each of homepage, login, health and chat at a 60 s interval, add an alert "
                       "channel with an owner and send it a test alert.")
    return Finding("obs.monitors", client.domain, "pass", CHECK_SEVERITY["obs.monitors"],
                   "Homepage, login, health and chat are monitored every minute with an owned, verified channel.",
                   evidence)


async def health_finding(net: ScanNet, url: str, target: str) -> Finding:
    severity = CHECK_SEVERITY["obs.health"]
    chain = await net.follow(url, max_hops=3)
    final = chain.final
    if final is None:
        reason = chain.error.reason if chain.error else "redirect loop"
        return Finding("obs.health", target, "fail", severity, f"The health endpoint did not answer: {reason}.",
                       chain.evidence(), "Serve a fast JSON health endpoint, e.g. /health → {\"ok\": true}.")
    evidence = {**final.summary(), "content_type": final.header("content-type") or ""}
    machine_readable = True
    try:
        json.loads(final.body)
    except ValueError:
        machine_readable = False
    evidence["machine_readable"] = machine_readable
    if final.status != 200:
        return Finding("obs.health", target, "fail", severity, f"The health endpoint answered HTTP {final.status}.",
                       evidence, "The health endpoint should answer 200 when the service is healthy.")
    if not machine_readable or final.total_ms > HEALTH_FAST_MS:
        why = "is not JSON" if not machine_readable else f"took {final.total_ms} ms"
        return Finding("obs.health", target, "warn", severity, f"The health endpoint answers, but its body {why}."
                       if not machine_readable else f"The health endpoint answers, but it {why}.", evidence,
                       "Answer within a second with a small JSON body a monitor can read.")
    return Finding("obs.health", target, "pass", severity,
                   f"The health endpoint answers 200 with JSON in {final.total_ms} ms.", evidence)


def obs_health(client, profile=None) -> Finding:
    check = obs_health_check(client)

    async def run():
        return await check(ScanNet(profile or get_profile(client.network_profile)))

    return asyncio.run(run())


def obs_health_check(client):
    """obs.health as an async callable of a ScanNet: the database is read now, the network when it is awaited
    (the scan pipeline runs it next to the engine's checks, within the scan's connection slot)."""
    domain = client.domain
    url = (client.endpoints.filter(kind="health").values_list("url", flat=True).first()
           or next((m.url for m in monitored_kinds(client)["health"]), None))

    async def check(net: ScanNet) -> Finding:
        if not url:
            return Finding("obs.health", domain, "fail", CHECK_SEVERITY["obs.health"],
                           "No health endpoint is declared.", {},
                           "Declare the health endpoint (e.g. https://api.example.com/health) in the client's "
                           "endpoints.")
        return await health_finding(net, url, domain)

    return check
