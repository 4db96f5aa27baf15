"""Daily re-scans during an active sprint and after handover, and the alert when a scheduled scan got worse.

One beat tick (`tasks.start_due_rescans`) finds due schedules and claims each by conditional UPDATE of its
`next_run_at`, so several beats or workers running the tick at once start one scan per client per day.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from apps.sprints.models import Sprint
from apps.tenants.models import Membership

from .models import DailyRescan, ScanRun

log = logging.getLogger(__name__)

RESCAN_EVERY = timedelta(days=1)
RESCAN_SPRINT_STATUSES = (Sprint.ACTIVE, Sprint.HANDED_OVER)


def set_daily_rescan(client, enabled: bool, now=None) -> DailyRescan:
    """Turn the schedule on (first run a day from now) or off."""
    now = now or timezone.now()
    schedule, _ = DailyRescan.objects.get_or_create(client=client)
    if enabled and not schedule.enabled:
        schedule.next_run_at = now + RESCAN_EVERY
    schedule.enabled = enabled
    schedule.save(update_fields=["enabled", "next_run_at"])
    return schedule


def sprint_to_rescan(client):
    """The sprint a scheduled scan reports to: the client's latest active or handed-over sprint, if any."""
    return client.sprints.filter(status__in=RESCAN_SPRINT_STATUSES).order_by("-starts_at").first()


def start_due_rescans(now=None) -> int:
    """Start the scans that are due; returns how many started."""
    from . import pipeline

    now = now or timezone.now()
    started = 0
    due = DailyRescan.objects.filter(enabled=True, next_run_at__lte=now).select_related("client")
    for schedule in due:
        claimed = DailyRescan.objects.filter(pk=schedule.pk, next_run_at=schedule.next_run_at).update(
            next_run_at=now + RESCAN_EVERY)
        if not claimed:
            continue  # another tick took it
        sprint = sprint_to_rescan(schedule.client)
        if sprint is None:
            continue  # no active or handed-over sprint today: try again tomorrow
        try:
            scan = pipeline.start_scan(client=schedule.client, sprint=sprint, scheduled=True)
        except (ImproperlyConfigured, pipeline.QueueUnavailable) as exc:
            # QueueUnavailable: the scan row exists and beat re-dispatches its parts; a bad profile waits for a fix.
            log.warning("scheduled scan of %s: %s", schedule.client.domain, exc)
            scan = ScanRun.objects.filter(client=schedule.client, options__scheduled=True).first()
            if scan is None:
                continue
        DailyRescan.objects.filter(pk=schedule.pk).update(last_scan=scan)
        started += 1
    return started


def new_blockers(previous, scan) -> list:
    """Failing blockers of `scan` that were not failing blockers in `previous` (check, target)."""
    before = set()
    if previous is not None:
        before = set(previous.findings.filter(status="fail", severity="blocker").values_list("check_id", "target"))
    return [f for f in scan.findings.filter(status="fail", severity="blocker")
            if (f.check_id, f.target) not in before]


def alert_if_worse(scan) -> bool:
    """After a scheduled scan: mail the workspace's consultants when the score dropped or a blocker appeared."""
    if not scan.options.get("scheduled") or scan.client_id is None or scan.state != ScanRun.DONE:
        return False
    if scan.failure_reason:  # finished past its deadline: the parts it missed are "could not decide", not worse
        return False
    previous = (ScanRun.objects.full().filter(client_id=scan.client_id, state=ScanRun.DONE, failure_reason="",
                                              created_at__lt=scan.created_at)
                .exclude(pk=scan.pk).order_by("-created_at").first())
    dropped = previous is not None and previous.score is not None and scan.score is not None \
        and scan.score < previous.score
    blockers = new_blockers(previous, scan)
    if not dropped and not blockers:
        return False
    client = scan.client
    recipients = sorted(set(Membership.objects.filter(
        workspace_id=client.workspace_id, role__in=(Membership.OWNER, Membership.CONSULTANT),
        user__is_active=True).values_list("user__email", flat=True)))
    if not recipients:
        return False
    what = []
    if dropped:
        what.append(f"score dropped {previous.score} → {scan.score}")
    if blockers:
        what.append(f"{len(blockers)} new blocker{'s' if len(blockers) != 1 else ''}")
    lines = [f"The daily scan of {client.name} ({scan.domain}) found a change for the worse: {', '.join(what)}.", ""]
    lines += [f"- {f.check_id} on {f.target}: {f.summary}" for f in blockers[:20]]
    lines += ["", f"Score {scan.score} ({scan.grade}), decision {scan.decision.upper()}.",
              f"Results: {settings.SITE_URL}{reverse('checks:detail', kwargs={'scanrun_id': scan.pk})}"]
    send_mail(f"[Launch Ready] {client.name}: {', '.join(what)}", "\n".join(lines), None, recipients)
    return True
