"""The scan pipeline: plan a scan as (family × hostname) parts, run each part, finalize exactly once.

Plain functions called by thin Celery tasks (tasks.py) and by views. Completion is detected without a result
backend: each part is finished by a conditional UPDATE (exactly once, even when a task is redelivered), the
finishing part bumps `parts_done`, and whichever part sees `parts_done == parts_total` finalizes — again by a
conditional UPDATE, so only one worker does.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.dispatch import Signal
from django.utils import timezone

from apps.checks.engine import Finding as EngineFinding
from apps.checks.engine import Target, run_family, scoring
from apps.checks.engine.registry import selected
from apps.checks.profiles import get_profile

from .models import Finding, ScanPart, ScanRun

log = logging.getLogger(__name__)

# Sent once per scan, after it is scored and its checklist items are updated (the deploy gate concludes here).
scan_finalized = Signal()


class QueueUnavailable(Exception):
    """The broker did not accept the scan's tasks; the scan stays queued and beat re-dispatches it later."""


def target_for_client(client) -> Target:
    """The engine's plain-data Target built from a client's rows (no secrets: names and URLs only)."""
    email = getattr(client, "email_setup", None)
    return Target.build(
        client.domain,
        hosts=[h.name for h in client.hostnames.all()],
        endpoints=[(e.kind, e.url) for e in client.endpoints.all()],
        dkim_selectors=list(email.dkim_selectors) if email else [],
        spf_senders=list(email.approved_spf_senders) if email else [],
    )


def plan_parts(target: Target, only=None) -> list[tuple[str, str]]:
    """(family, hostname) units. A family with per-host checks gets one part per hostname; a family of
    domain-wide checks gets one part on the domain (run_family runs target-scoped checks there)."""
    parts = []
    families: dict[str, set[str]] = {}
    for spec in selected(only, include_active=False):
        families.setdefault(spec.family, set()).add(spec.scope)
    for family in sorted(families):
        hosts = target.hostnames if "host" in families[family] else [target.domain]
        parts.extend((family, host) for host in hosts)
    return parts


def run_scan_inline(**kwargs) -> ScanRun:
    """Create a scan and run its parts in this process, without the broker (demo loader, management commands)."""
    scan = start_scan(**kwargs, publish=False)
    for part_id in scan.parts.values_list("pk", flat=True):
        run_part(part_id)
    scan.refresh_from_db()
    return scan


def start_scan(*, client=None, sprint=None, requested_by=None, only=None, profile=None, target=None,
               publish=True) -> ScanRun:
    """Create a scan and its parts and enqueue the parts once the transaction commits."""
    target = target or target_for_client(client)
    profile_name = profile or (client.network_profile if client else settings.DEFAULT_NETWORK_PROFILE)
    get_profile(profile_name)  # fail now, in the request, if the profile is not configured
    now = timezone.now()
    with transaction.atomic():
        scan = ScanRun.objects.create(
            client=client, sprint=sprint, requested_by=requested_by, profile=profile_name, domain=target.domain,
            target=dataclasses.asdict(target), options={"only": list(only or [])}, state=ScanRun.QUEUED,
            deadline=now + timedelta(seconds=settings.SCAN_DEADLINE_SECONDS),
        )
        parts = ScanPart.objects.bulk_create(
            ScanPart(scan=scan, family=family, hostname=host) for family, host in plan_parts(target, only)
        )
        ScanRun.objects.filter(pk=scan.pk).update(parts_total=len(parts))
        scan.parts_total = len(parts)
        if sprint is not None:
            sprint.log(requested_by, f"started a scan of {target.domain} ({len(parts)} parts)")
        part_ids = [p.pk for p in parts]
    if not publish:
        return scan
    if transaction.get_connection().in_atomic_block:
        # Called inside a caller's transaction: publish once it commits (beat re-publishes if that fails).
        transaction.on_commit(lambda: dispatch(part_ids))
    elif not dispatch(part_ids):
        ScanRun.objects.filter(pk=scan.pk).update(failure_reason="waiting for the queue")
        raise QueueUnavailable(scan.pk)
    return scan


def dispatch(part_ids) -> bool:
    """Publish one task per part (after the rows are committed); False when the broker is unreachable."""
    from . import tasks

    try:
        for pk in part_ids:
            tasks.run_scan_part.apply_async((pk,), retry=True, retry_policy=PUBLISH_RETRY)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise many types for "broker down"
        log.warning("could not publish scan parts: %s", exc)
        return False
    return True


# Publishing gives up after about a second, so a request never hangs on a dead broker.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 0.5}


def redispatch_stalled(now=None) -> int:
    """Publish again the unfinished parts of live scans that nobody is working on: never started (their task was
    not published or was lost with a broker) or started longer ago than a part may take (their worker died).
    Parts finish exactly once, so a part published twice is harmless. Returns how many parts were published."""
    now = now or timezone.now()
    unstarted_before = now - timedelta(seconds=settings.SCAN_PART_UNSTARTED_SECONDS)
    stalled_before = now - timedelta(seconds=settings.SCAN_PART_STALLED_SECONDS)
    parts = list(ScanPart.objects.filter(
        finished_at=None, scan__state__in=[ScanRun.QUEUED, ScanRun.RUNNING], scan__deadline__gt=now,
    ).filter(
        Q(started_at=None, scan__created_at__lt=unstarted_before) | Q(started_at__lt=stalled_before)
    ).values_list("pk", "scan_id"))
    if parts and dispatch([pk for pk, _ in parts]):
        ScanRun.objects.filter(pk__in={scan for _, scan in parts}, failure_reason="waiting for the queue").update(
            failure_reason="")
        return len(parts)
    return 0


def run_part(part_id: int) -> None:
    """Run one part's checks and record its findings; safe to call again for the same part (redelivery)."""
    part = ScanPart.objects.select_related("scan").filter(pk=part_id).first()
    if part is None or part.finished_at is not None or part.scan.state in (ScanRun.DONE, ScanRun.FAILED):
        return
    scan = part.scan
    ScanRun.objects.filter(pk=scan.pk, state=ScanRun.QUEUED).update(state=ScanRun.RUNNING,
                                                                     started_at=timezone.now())
    ScanPart.objects.filter(pk=part.pk).update(attempts=F("attempts") + 1, started_at=timezone.now())
    target = Target(**scan.target)
    findings = run_family(part.family, target, part.hostname or None, get_profile(scan.profile),
                          only=scan.options.get("only") or None)
    record_part(part, findings)


def record_part(part: ScanPart, findings: list[EngineFinding]) -> None:
    """Store findings and finish the part in one transaction, then finalize the scan if this was the last."""
    with transaction.atomic():
        if not ScanPart.objects.filter(pk=part.pk, finished_at=None).update(finished_at=timezone.now()):
            return  # another delivery of this part already recorded it
        Finding.objects.bulk_create([_row(part.scan_id, f) for f in findings], ignore_conflicts=True)
        ScanRun.objects.filter(pk=part.scan_id).update(parts_done=F("parts_done") + 1)
    scan = ScanRun.objects.get(pk=part.scan_id)
    if scan.parts_done >= scan.parts_total:
        finalize(scan)


def _row(scan_id, f: EngineFinding) -> Finding:
    return Finding(scan_id=scan_id, check_id=f.check, target=f.target[:500], status=f.status, severity=f.severity,
                   summary=f.summary[:500], evidence=f.evidence, remediation=f.remediation,
                   duration_ms=max(0, int(f.duration_ms)))


def engine_findings(scan: ScanRun) -> list[EngineFinding]:
    return engine_findings_from(scan.findings.all())


def engine_findings_from(rows) -> list[EngineFinding]:
    return [EngineFinding(check=f.check_id, target=f.target, status=f.status, severity=f.severity,
                          summary=f.summary, evidence=f.evidence, remediation=f.remediation,
                          duration_ms=f.duration_ms)
            for f in rows]


def finalize(scan: ScanRun, *, reason: str = "") -> bool:
    """Score the scan and mark it done; only the first caller's UPDATE wins."""
    findings = engine_findings(scan)
    value = scoring.score(findings)
    fields = dict(state=ScanRun.DONE, finished_at=timezone.now(), score=value, grade=scoring.grade_for(value),
                  decision=scoring.decision(findings), blockers=sum(scoring.blocks_launch(f) for f in findings))
    if reason:
        fields["failure_reason"] = reason[:500]
    won = ScanRun.objects.filter(pk=scan.pk, state__in=[ScanRun.QUEUED, ScanRun.RUNNING]).update(**fields)
    if won:
        scan.refresh_from_db()
        from .sync import apply_scan_to_checklist

        apply_scan_to_checklist(scan)
        scan_finalized.send(sender=ScanRun, scan=scan)
    return bool(won)


def finalize_overdue(now=None) -> int:
    """Scans past their deadline get `error` findings for every unfinished part and are finalized."""
    now = now or timezone.now()
    count = 0
    for scan in ScanRun.objects.filter(state__in=[ScanRun.QUEUED, ScanRun.RUNNING], deadline__lt=now):
        ScanRun.objects.filter(pk=scan.pk).update(failure_reason="deadline passed")
        target = Target(**scan.target)
        for part in scan.parts.filter(finished_at=None):
            specs = selected(scan.options.get("only") or None, family=part.family)
            missing = [
                EngineFinding(check=s.id, target=part.hostname or target.domain, status="error",
                              severity=scoring.default_severity(s.id),
                              summary="The check did not finish before the scan's deadline.",
                              evidence={"error": "scan_deadline", "deadline": scan.deadline.isoformat()},
                              remediation="Run the scan again; if it keeps timing out, check that the host answers.")
                for s in specs if s.scope == "host" or (part.hostname or target.domain) == target.domain
            ]
            record_part(part, missing)
        scan.refresh_from_db()
        if scan.state != ScanRun.DONE:
            finalize(scan, reason="deadline passed")
        count += 1
    return count
