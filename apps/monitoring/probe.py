"""Probing: plain async Python over the engine's ScanNet, so every probe passes the address guard.

A batch is probed concurrently (bounded by a semaphore). Failures are re-checked at once with a fresh ScanNet
(ScanNet caches fetches per instance): a failure counts only when the re-check fails too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass

from apps.checks.engine.net import NetError, ScanNet
from apps.checks.engine.profile import NetworkProfile

logger = logging.getLogger(__name__)

MAX_CONCURRENT_PROBES = 200


@dataclass(frozen=True)
class ProbeSpec:
    monitor_id: object
    url: str
    timeout: float = 10.0
    expected_status: int = 200
    keyword: str = ""
    json_field: str = ""

    @classmethod
    def of(cls, monitor) -> ProbeSpec:
        return cls(monitor.pk, monitor.url, float(monitor.timeout_seconds), monitor.expected_status,
                   monitor.keyword, monitor.json_field)


@dataclass
class Outcome:
    ok: bool
    status_code: int | None = None
    latency_ms: int | None = None
    error: str = ""  # internal detail
    public_cause: str = ""  # safe for a public page: no IPs, no bodies
    rechecked: bool = False


def judge(spec: ProbeSpec, status: int, body: bytes) -> tuple[bool, str, str]:
    """(ok, internal error, public cause) for one HTTP answer."""
    if status != spec.expected_status:
        return False, f"HTTP {status} (expected {spec.expected_status})", f"HTTP {status}"
    if spec.keyword and spec.keyword not in body.decode("utf-8", "replace"):
        return False, f"keyword {spec.keyword!r} missing from the response", "unexpected content"
    if spec.json_field:
        try:
            value = json.loads(body)
            for key in spec.json_field.split("."):
                value = value[int(key)] if isinstance(value, list) else value[key]
        except (ValueError, KeyError, IndexError, TypeError, RecursionError):  # a site's body: anything goes
            return False, f"JSON field {spec.json_field!r} missing", "unexpected content"
        if not value:
            return False, f"JSON field {spec.json_field!r} is {value!r}", "unhealthy"
    return True, "", ""


async def probe_once(net: ScanNet, spec: ProbeSpec) -> Outcome:
    started = time.monotonic()
    try:
        async with asyncio.timeout(spec.timeout):
            chain = await net.follow(spec.url, max_hops=5)
    except TimeoutError:
        return Outcome(False, error=f"no answer within {spec.timeout:g} s", public_cause="timeout")
    latency = int((time.monotonic() - started) * 1000)
    if chain.error is not None:
        kind = chain.error.kind
        return Outcome(False, latency_ms=latency, error=f"{kind}: {chain.error.reason}"[:300],
                       public_cause="timeout" if "timeout" in kind else "unreachable")
    final = chain.final
    if final is None:
        return Outcome(False, latency_ms=latency, error="redirect loop or too many redirects",
                       public_cause="redirect error")
    ok, error, public = judge(spec, final.status, final.body)
    return Outcome(ok, final.status, latency, error[:300], public)


async def probe_batch(profile: NetworkProfile, specs: list[ProbeSpec],
                      concurrency: int = MAX_CONCURRENT_PROBES) -> dict:
    """monitor_id -> Outcome, every failure re-checked once before it counts."""
    gate = asyncio.Semaphore(concurrency)
    # Each monitor's own timeout (up to 30 s) bounds its probe in probe_once(); the profile's per-read and
    # per-request limits (10 s / 15 s for scans) must not cut a monitor short that allows longer.
    longest = max((spec.timeout for spec in specs), default=0)
    profile = profile.with_options(max_concurrency=max(profile.max_concurrency, concurrency),
                                   read_timeout=max(profile.read_timeout, longest),
                                   request_timeout=max(profile.request_timeout, longest))

    async def run(net, spec):
        async with gate:
            try:
                return spec.monitor_id, await probe_once(net, spec)
            except NetError as exc:  # pragma: no cover - follow() folds NetErrors into the chain
                return spec.monitor_id, Outcome(False, error=exc.reason[:300], public_cause="unreachable")
            except Exception as exc:  # a bug must fail this monitor's probe, not the batch of 100 with it
                logger.exception("monitor %s: probe of %s crashed", spec.monitor_id, spec.url)
                return spec.monitor_id, Outcome(False, error=f"probe error: {exc.__class__.__name__}",
                                                public_cause="probe error")

    net = ScanNet(profile)  # one resolver cache for the batch
    first = dict(await asyncio.gather(*(run(net, s) for s in specs)))
    failed = [s for s in specs if not first[s.monitor_id].ok]
    if failed:
        recheck_net = ScanNet(profile)
        second = dict(await asyncio.gather(*(run(recheck_net, s) for s in failed)))
        for spec in failed:
            outcome = second[spec.monitor_id]
            outcome.rechecked = True
            first[spec.monitor_id] = outcome
    return first
