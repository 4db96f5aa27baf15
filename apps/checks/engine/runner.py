"""Running checks: a whole scan, or one family for one hostname (the unit a Celery task will fan out)."""

from __future__ import annotations

import asyncio
import logging
import time

from . import scoring
from .findings import Finding, ScanResult, Target
from .net import NetError, ScanNet
from .profile import NetworkProfile
from .registry import CheckSpec, selected

log = logging.getLogger(__name__)


def make_finding(check_id: str, target: str, status: str, summary: str, evidence: dict | None = None,
                 remediation: str = "", severity: str | None = None) -> Finding:
    return Finding(check=check_id, target=target, status=status,
                   severity=severity or scoring.default_severity(check_id), summary=summary,
                   evidence=evidence or {}, remediation=remediation)


def error_finding(check_id: str, target: str, exc: NetError, what: str = "") -> Finding:
    lead = f"Could not check {what or target}: "
    return make_finding(check_id, target, "error", lead + exc.reason, exc.evidence(),
                        "Make sure the host answers from the public internet, then scan again.")


async def _invoke(spec: CheckSpec, target: Target, net: ScanNet, host: str | None) -> list[Finding]:
    subject = host or target.domain
    started = time.monotonic()
    budget = spec.budget(target, net.profile) if spec.budget else net.profile.check_timeout
    try:
        async with asyncio.timeout(budget):
            if spec.scope == "host":
                findings = await spec.func(target, net, host)
            else:
                findings = await spec.func(target, net)
    except TimeoutError:
        findings = [make_finding(spec.id, subject, "error",
                                 f"The check did not finish within {budget:g} s.",
                                 {"error": "check_timeout", "timeout_s": budget})]
    except NetError as exc:
        if exc.kind in ("nxdomain", "no_address"):
            # audit.resolves already fails this name; repeating it as an error in every check is noise.
            findings = [make_finding(spec.id, subject, "skipped", f"Not checked: {exc.reason} (see audit.resolves).",
                                     exc.evidence())]
        else:
            findings = [error_finding(spec.id, subject, exc)]
    except Exception as exc:  # a bug in one check must not sink the scan; it is reported, never a silent pass
        log.exception("check %s crashed on %s", spec.id, subject)
        findings = [make_finding(spec.id, subject, "error", f"The check crashed: {type(exc).__name__}.",
                                 {"error": "internal", "exception": f"{type(exc).__name__}: {exc}"})]
    elapsed = int((time.monotonic() - started) * 1000)
    for f in findings:
        if not f.duration_ms:
            f.duration_ms = elapsed
    return findings


def _jobs(specs: list[CheckSpec], target: Target, hostname: str | None):
    for spec in specs:
        if spec.scope == "target":
            if hostname is None or hostname == target.domain:
                yield spec, None
        else:
            for host in ([hostname] if hostname else target.hostnames):
                yield spec, host


async def run_checks_async(target: Target, profile: NetworkProfile, *, only=None, include_active=False,
                           family: str | None = None, hostname: str | None = None,
                           net: ScanNet | None = None) -> tuple[list[Finding], ScanNet]:
    net = net or ScanNet(profile)
    jobs = list(_jobs(selected(only, include_active, family), target, hostname))
    refused = []
    if any(spec.active for spec, _host in jobs):  # proof of ownership, re-checked in every run that sends traffic
        from .ownership import authorise_active, refused_finding

        ownership = await authorise_active(target, net)
        if not ownership.verified:
            refused = [refused_finding(spec.id, target, ownership) for spec, _host in jobs if spec.active]
            jobs = [(spec, host) for spec, host in jobs if not spec.active]
    batches = await asyncio.gather(*(_invoke(spec, target, net, host) for spec, host in jobs))
    return [f for batch in batches for f in batch] + refused, net


async def run_family_async(family: str, target: Target, hostname: str | None, profile: NetworkProfile,
                           **kwargs) -> list[Finding]:
    findings, _ = await run_checks_async(target, profile, family=family, hostname=hostname, **kwargs)
    return findings


def run_family(family: str, target: Target, hostname: str | None, profile: NetworkProfile, **kwargs) -> list[Finding]:
    """One family of checks for one hostname (None: every hostname plus the domain-wide checks)."""
    return asyncio.run(run_family_async(family, target, hostname, profile, **kwargs))


async def run_units_async(units: list[tuple[str, str | None]], target: Target, profile: NetworkProfile, *,
                          extra=(), on_unit_done=None, **kwargs) -> list[list[Finding]]:
    """Several (family, hostname) units at once on one ScanNet: one resolver and fetch cache, and together never
    more than profile.max_concurrency connections. The findings of each unit, in the order of `units`, then one
    list with the findings of `extra`: async callables taking the ScanNet (checks the caller adds, e.g. from data
    the engine never sees); one that raises is logged and left out.
    on_unit_done(index, findings), an async callable, hears of each unit as soon as it is done (live progress)."""
    net = ScanNet(profile)

    async def unit(index, family, hostname):
        findings, _net = await run_checks_async(target, profile, family=family, hostname=hostname, net=net, **kwargs)
        if on_unit_done is not None:
            await on_unit_done(index, findings)
        return findings, _net

    async def guarded(call) -> list[Finding]:
        try:
            return list(await call(net))
        except Exception:  # noqa: BLE001 - the caller's check must not sink the engine's
            log.exception("extra check %r failed on %s", call, target.domain)
            return []

    results = await asyncio.gather(*(unit(index, family, hostname) for index, (family, hostname) in enumerate(units)),
                                   *(guarded(call) for call in extra))
    unit_findings = [findings for findings, _net in results[:len(units)]]
    return unit_findings + [[f for batch in results[len(units):] for f in batch]]


def run_units(units: list[tuple[str, str | None]], target: Target, profile: NetworkProfile,
              **kwargs) -> list[list[Finding]]:
    """Synchronous run_units_async (one event loop for the whole batch of units)."""
    return asyncio.run(run_units_async(units, target, profile, **kwargs))


def summarise(domain: str, findings: list[Finding], duration_ms: int, net: ScanNet | None = None) -> ScanResult:
    ordered = scoring.worst_first(findings)
    return ScanResult(domain=domain, score=scoring.score(findings), grade=scoring.grade_for(scoring.score(findings)),
                      decision=scoring.decision(findings), findings=ordered, risks=scoring.risks(findings),
                      duration_ms=duration_ms, dns_queries=net.dns_queries if net else 0,
                      connections=net.connections if net else 0)


async def run_scan_async(target: Target, profile: NetworkProfile, only=None, *, include_active=False) -> ScanResult:
    started = time.monotonic()
    findings, net = await run_checks_async(target, profile, only=only, include_active=include_active)
    return summarise(target.domain, findings, int((time.monotonic() - started) * 1000), net)


def run_scan(target: Target, profile: NetworkProfile, only=None, *, include_active=False) -> ScanResult:
    """Synchronous entry point for the CLI and Celery tasks (each call runs its own event loop)."""
    return asyncio.run(run_scan_async(target, profile, only, include_active=include_active))
