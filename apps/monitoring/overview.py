"""What the operations view and the public status page show, computed from monitors, rollups and incidents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from .models import AlertAttempt, Incident, Monitor, Rollup
from .storage import uptime


@dataclass
class MonitorRow:
    monitor: Monitor
    status: str
    uptime_24h: float | None
    uptime_30d: float | None
    p95_series: list = field(default_factory=list)
    p95_now: int | None = None
    open_incident: Incident | None = None


def badge_for(status: str) -> str:
    return {"up": "pass", "down": "fail", "paused": "na", "maintenance": "warn"}.get(status, "todo")


def monitor_rows(client, now=None) -> list[MonitorRow]:
    now = now or timezone.now()
    rows = []
    for m in client.monitors.all():
        hours = list(Rollup.objects.filter(monitor=m, period=Rollup.HOUR, start__gte=now - timedelta(hours=24))
                     .order_by("start").values_list("p95_ms", flat=True))
        minutes = list(Rollup.objects.filter(monitor=m, period=Rollup.MINUTE, start__gte=now - timedelta(hours=1))
                       .order_by("start").values_list("p95_ms", flat=True))
        series = hours if len(hours) >= 2 else minutes
        rows.append(MonitorRow(m, m.status_word, uptime(m, days=1, now=now), uptime(m, days=30, now=now),
                               [v for v in series if v is not None], next((v for v in reversed(series) if v), None),
                               m.incidents.filter(closed_at=None).first()))
    return rows


def recent_alerts(client, limit=10):
    return (AlertAttempt.objects.filter(channel__client=client).select_related("channel", "incident__monitor")
            .order_by("-due_at")[:limit])


def open_incidents(client):
    return Incident.objects.filter(monitor__client=client, closed_at=None).select_related("monitor")


def overall_status(rows: list[MonitorRow]) -> str:
    active = [r for r in rows if r.status in ("up", "down")]
    if any(r.status == "down" for r in active):
        return "down"
    return "up" if active else "unknown"


def uptime_bars(monitor, days=90, now=None) -> list[dict]:
    """One bar per day, oldest first: availability % from day rollups (None: no data that day)."""
    now = now or timezone.now()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    by_day = {r.start.date(): r for r in Rollup.objects.filter(monitor=monitor, period=Rollup.DAY,
                                                               start__gte=today - timedelta(days=days - 1))}
    bars = []
    for i in range(days - 1, -1, -1):
        day = (today - timedelta(days=i)).date()
        r = by_day.get(day)
        value = r.availability if r else None
        level = "none" if value is None else ("pass" if value >= 99.9 else "warn" if value >= 99 else "fail")
        bars.append({"day": day, "availability": value, "level": level})
    return bars
