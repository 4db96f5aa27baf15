"""Alerts that come from scans rather than probes: a certificate expiring within 14 days (from tls.certificate)
and a readiness regression (a lower score or a lost go decision against the client's previous finished scan).

`alert_on_scan(scan)` runs for every finished full scan (receivers.on_scan_finalized); `alert_smoke_failed(deploy)`
is the deploy gate's settings.DEPLOY_SMOKE_FAILED_HOOK.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import AlertAttempt, AlertChannel

CERT_ALERT_DAYS = 14
REPEAT_AFTER = timedelta(hours=24)  # the same notice goes to a channel at most once a day


def scan_notices(scan) -> list[str]:
    from apps.checks.models import ScanRun

    notes = []
    for target, evidence in scan.findings.filter(check_id="tls.certificate").values_list("target", "evidence"):
        days = (evidence or {}).get("days_left")
        if isinstance(days, int) and days < CERT_ALERT_DAYS:
            notes.append(f"The certificate of {target} expires in {days} days: renew it now.")
    previous = (ScanRun.objects.full().filter(client_id=scan.client_id, state=ScanRun.DONE,
                                              created_at__lt=scan.created_at)
                .exclude(pk=scan.pk).order_by("-created_at").first())
    if previous is not None and previous.score is not None and scan.score is not None:
        lost_go = previous.decision == "go" and scan.decision != "go"
        if scan.score < previous.score or lost_go:
            before = set(previous.findings.filter(status="fail").values_list("check_id", flat=True))
            now_failing = sorted(set(scan.findings.filter(status="fail").values_list("check_id", flat=True)) - before)
            note = f"Readiness regressed: score {previous.score} → {scan.score}"
            if lost_go:
                note += f", decision {previous.decision} → {scan.decision or 'pending'}"
            if now_failing:
                note += f"; newly failing: {', '.join(now_failing)}"
            notes.append(note + ".")
    return notes


def alert_on_scan(scan, now=None) -> list[AlertAttempt]:
    notes = scan_notices(scan)
    if not notes or scan.client_id is None:
        return []
    return notify_channels(scan.client_id, " ".join(notes), now)


def alert_smoke_failed(deploy, now=None) -> list[AlertAttempt]:
    """settings.DEPLOY_SMOKE_FAILED_HOOK: tell the client's channels that a deploy's smoke test failed."""
    what = "rollback" if getattr(deploy, "kind", "") == "rollback" else "deploy"
    return notify_channels(deploy.client_id, f"The smoke test FAILED after the {what} of {deploy.version} to "
                                             f"{deploy.environment}: check the deploy's findings.", now)


def notify_channels(client_id, text: str, now=None) -> list[AlertAttempt]:
    """One NOTICE attempt per enabled channel of the client, the same text at most once a day per channel."""
    now = now or timezone.now()
    attempts = []
    for channel in AlertChannel.objects.filter(client_id=client_id, enabled=True):
        if AlertAttempt.objects.filter(channel=channel, event=AlertAttempt.NOTICE, text=text, number=1,
                                       due_at__gte=now - REPEAT_AFTER).exists():
            continue
        attempts.append(AlertAttempt.objects.create(channel=channel, event=AlertAttempt.NOTICE, text=text,
                                                    due_at=now))
    if attempts:
        from .tasks import deliver_alerts

        ids = [a.pk for a in attempts]
        transaction.on_commit(lambda: deliver_alerts.delay(ids))
    return attempts
