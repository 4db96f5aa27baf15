"""Stage 4 performance checks: perf.latency, an honest p95 under a constant arrival rate.

Active: the runner lets it run only after proof of ownership (ownership.py). Target.options:
`rate` (requests/s) and `duration` (s) from the CLI's --rate/--duration; `perf_request_timeout`,
`perf_max_in_flight`, `perf_max_requests` tune the probe (all capped by loadprobe's hard limits).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .findings import Finding, Target
from .loadprobe import Plan, run_load
from .net import NetError, ScanNet
from .profile import NetworkProfile
from .registry import check
from .runner import error_finding, make_finding

PASS_P95_MS = 500.0
WARN_P95_MS = 1000.0
MAX_ERROR_RATE = 0.01
MAX_URLS = 2  # each probed URL costs a full run: keep a scan's load bounded
SLOW_KINDS = {"read_timeout", "request_timeout"}


def plan_for(target: Target) -> Plan:
    return Plan.bounded(target.option("rate", None), target.option("duration", None),
                        max_requests=target.option("perf_max_requests", None),
                        max_in_flight=target.option("perf_max_in_flight", None),
                        request_timeout=target.option("perf_request_timeout", None))


def urls_for(target: Target) -> list[str]:
    """The declared homepage endpoint(s), else the apex over HTTPS."""
    return (target.endpoints.get("homepage") or [f"https://{target.domain}/"])[:MAX_URLS]


def budget(target: Target, profile: NetworkProfile) -> float:
    """The runner's time limit for this check: every URL's hard deadline plus its preflight."""
    return len(urls_for(target)) * (plan_for(target).deadline_s + profile.check_timeout)


def _on_domain(url: str, domain: str) -> bool:
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host == domain or host.endswith("." + domain)


def verdict(evidence: dict) -> tuple[str, str, str]:
    """(status, summary, remediation) from the probe's figures."""
    if evidence["inconclusive"]:
        return ("error", "Inconclusive: " + "; ".join(evidence["inconclusive_reasons"]) + ".",
                "Run the load probe again from a less busy machine or at a lower --rate; the figures above describe "
                "the generator, not the site.")
    p95, rate = evidence["p95_ms"], evidence["planned_rate"]
    errors = evidence["error_rate"]
    load = f"at {rate:g} requests/s for {evidence['duration_s']:g} s"
    tail = "Find what stalls the slowest requests (database queries, cold starts, a blocked worker) and fix it."
    if errors >= MAX_ERROR_RATE:
        kinds = ", ".join(f"{k} x{v}" for k, v in sorted(evidence["errors"].items())) or "unsent"
        return ("fail", f"{errors:.1%} of requests failed {load} ({kinds}); p95 was {p95:g} ms.",
                "Fix the errors first: check the server's logs for the failing requests and its capacity at this rate.")
    if p95 > WARN_P95_MS:
        return ("fail", f"p95 latency is {p95:g} ms {load}: over the {WARN_P95_MS:g} ms limit.", tail)
    if p95 >= PASS_P95_MS:
        return ("warn", f"p95 latency is {p95:g} ms {load}: over the {PASS_P95_MS:g} ms budget.", tail)
    return ("pass", f"95% of requests answered within {p95:g} ms {load}, {errors:.1%} errors.", "")


async def probe(target: Target, net: ScanNet, url: str) -> Finding:
    if not _on_domain(url, target.domain):
        return make_finding("perf.latency", url, "skipped", f"{url} is not on {target.domain}, the domain whose "
                            "ownership was proven: not load-tested.", {"url": url},
                            "Declare an endpoint on the verified domain.")
    # One guarded walk first: follow redirects to the page users land on, and do not hammer a dead URL.
    chain = await net.follow(url)
    if chain.error and chain.error.kind in SLOW_KINDS and not chain.hops:
        # Slow is what this check measures: probe the URL as declared and let the samples tell how slow.
        return await _load(target, net, url, url, {"preflight": chain.error.evidence()})
    if chain.error:
        return error_finding("perf.latency", url, chain.error)
    final = chain.final
    if final is None:
        return make_finding("perf.latency", url, "error", f"{url} never lands on a page (redirect loop or too many "
                            "hops); nothing to load-test.", chain.evidence(), "Fix the redirects, then scan again.")
    if not _on_domain(final.url, target.domain):
        # Ownership covers target.domain only: never send load to whatever host a redirect names.
        return make_finding("perf.latency", url, "skipped", f"{url} redirects to {final.url}, outside "
                            f"{target.domain}: not load-tested.", chain.evidence(),
                            "Declare an endpoint on the verified domain.")
    return await _load(target, net, url, final.url, {"redirected_from": url} if final.url != url else {})


async def _load(target: Target, net: ScanNet, url: str, load_url: str, notes: dict) -> Finding:
    report = await run_load(net, load_url, plan_for(target))
    evidence = {**report.evidence(), **notes}
    status, summary, remediation = verdict(evidence)
    return make_finding("perf.latency", url, status, summary, evidence, remediation)


@check("perf.latency", scope="target", active=True, budget=budget)
async def latency(target: Target, net: ScanNet) -> list[Finding]:
    findings = []
    for url in urls_for(target):
        try:
            findings.append(await probe(target, net, url))
        except NetError as exc:
            findings.append(error_finding("perf.latency", url, exc))
    return findings
