"""Rollups and pruning: what keeps storage bounded.

Minute and hour rollups are computed exactly from raw results (kept 48 h, longer than any window recomputed here);
day rollups are computed from hour rollups: probes and failures add up exactly, while p50/p95 are the largest
hourly value (an upper bound, which is the safe side for a latency alarm).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from .models import DAY_RETENTION, HOUR_RETENTION, MINUTE_RETENTION, RAW_RETENTION, ProbeResult, Rollup
from .service import regions

RECOMPUTE_MINUTES = 5  # late results (slow batches) still land in their minute


def percentile(values: list[int], q: float) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _floor(moment: datetime, period: str) -> datetime:
    moment = moment.replace(second=0, microsecond=0)
    if period in (Rollup.HOUR, Rollup.DAY):
        moment = moment.replace(minute=0)
    if period == Rollup.DAY:
        moment = moment.replace(hour=0)
    return moment


def _save(rows: dict):
    with transaction.atomic():
        for (monitor_id, period, start), values in rows.items():
            Rollup.objects.update_or_create(monitor_id=monitor_id, period=period, start=start, defaults=values)


def rollup_raw(period: str, since: datetime, until: datetime):
    """Exact rollups of raw results in [since, until) for the minute or hour period.

    A probe is a slot, whatever the number of regions that probed it, and it failed only as service.record()
    judges it: alone, when its (re-checked) result failed; with several regions, when two or more failed it. One
    region's network trouble is not downtime: it opens no incident, so it must not dent uptime or the status page."""
    failures_needed = 1 if len(regions()) < 2 else 2
    slots = defaultdict(lambda: [0, []])  # (monitor, bucket, slot) -> [failed regions, latencies of the ok ones]
    for monitor_id, at, slot, ok, latency in (ProbeResult.objects.filter(at__gte=since, at__lt=until)
                                              .values_list("monitor_id", "at", "slot", "ok", "latency_ms")
                                              .iterator()):
        entry = slots[(monitor_id, _floor(at, period), slot)]
        if not ok:
            entry[0] += 1
        elif latency is not None:
            entry[1].append(latency)
    groups = defaultdict(lambda: {"probes": 0, "failures": 0, "lat": []})
    for (monitor_id, start, _slot), (failed, latencies) in slots.items():
        g = groups[(monitor_id, period, start)]
        g["probes"] += 1
        g["failures"] += failed >= failures_needed
        g["lat"] += latencies
    _save({key: {"probes": g["probes"], "failures": g["failures"], "p50_ms": percentile(g["lat"], 0.5),
                 "p95_ms": percentile(g["lat"], 0.95)} for key, g in groups.items()})


def rollup_days(since: datetime, until: datetime):
    groups = defaultdict(lambda: {"probes": 0, "failures": 0, "p50_ms": None, "p95_ms": None})
    for r in Rollup.objects.filter(period=Rollup.HOUR, start__gte=since, start__lt=until).iterator():
        g = groups[(r.monitor_id, Rollup.DAY, _floor(r.start, Rollup.DAY))]
        g["probes"] += r.probes
        g["failures"] += r.failures
        for key in ("p50_ms", "p95_ms"):
            value = getattr(r, key)
            if value is not None:
                g[key] = max(g[key] or 0, value)
    _save(groups)


def rollup(now: datetime | None = None):
    now = now or timezone.now()
    minute = _floor(now, Rollup.MINUTE)
    rollup_raw(Rollup.MINUTE, minute - timedelta(minutes=RECOMPUTE_MINUTES), now)
    hour = _floor(now, Rollup.HOUR)
    rollup_raw(Rollup.HOUR, hour - timedelta(hours=1), now)
    day = _floor(now, Rollup.DAY)
    rollup_days(day - timedelta(days=1), now)


def prune(now: datetime | None = None) -> int:
    now = now or timezone.now()
    deleted = ProbeResult.objects.filter(at__lt=now - RAW_RETENTION).delete()[0]
    for period, keep in ((Rollup.MINUTE, MINUTE_RETENTION), (Rollup.HOUR, HOUR_RETENTION),
                         (Rollup.DAY, DAY_RETENTION)):
        deleted += Rollup.objects.filter(period=period, start__lt=now - keep).delete()[0]
    return deleted


def uptime(monitor, *, days: int, now: datetime | None = None) -> float | None:
    """Availability % over the last `days` days, from hour rollups (exact counts)."""
    now = now or timezone.now()
    probes = failures = 0
    for p, f in Rollup.objects.filter(monitor=monitor, period=Rollup.HOUR,
                                      start__gte=now - timedelta(days=days)).values_list("probes", "failures"):
        probes += p
        failures += f
    return None if not probes else round(100.0 * (probes - failures) / probes, 3)
