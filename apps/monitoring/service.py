"""Scheduling, recording and incidents: the plain functions the Celery tasks call.

- `claim_due` finds due monitors by the indexed `next_due` and claims each slot with a conditional UPDATE of
  next_due (healthchecks style): of two ticks racing, exactly one moves a given slot forward and dispatches it.
- `run_slots` probes claimed monitors concurrently through the network profile and records the outcomes.
- `record` turns a confirmed outcome into state, incidents and pending alert attempts.

Regions (settings.MONITOR_REGIONS): every slot is probed once from each region, by the workers consuming the
`monitors.<region>` queue. A failure (already re-checked inside its region) counts only when another region also
failed the same slot: one region's network trouble never pages anyone. With a single region the re-check alone
confirms. Any region reaching the endpoint closes an open incident: the service is up from somewhere.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.checks.profiles import get_profile

from .models import FLAP_WINDOW, AlertAttempt, AlertChannel, Incident, Monitor, ProbeResult
from .probe import Outcome, ProbeSpec, probe_batch

BATCH_SIZE = 100
TICK_LIMIT = 20000


def find_due(now: datetime, limit: int = TICK_LIMIT) -> list[tuple]:
    """(id, next_due, interval) of every enabled, unpaused monitor whose slot has come."""
    return list(Monitor.objects.filter(enabled=True, paused=False, next_due__lte=now)
                .order_by("next_due").values_list("id", "next_due", "interval_seconds")[:limit])


def claim(rows: list[tuple], now: datetime) -> list[tuple]:
    """Claim each slot by moving next_due forward only if it is still the value we read; [(id, slot)] won."""
    won = []
    for monitor_id, due, interval in rows:
        step = timedelta(seconds=interval)
        following = due + step
        if following <= now:  # missed slots (workers down) are skipped, not replayed in a burst
            following = now + step
        if Monitor.objects.filter(pk=monitor_id, next_due=due).update(next_due=following) == 1:
            won.append((monitor_id, due))
    return won


def claim_due(now: datetime | None = None) -> list[tuple]:
    now = now or timezone.now()
    return claim(find_due(now), now)


def regions() -> list[str]:
    return list(settings.MONITOR_REGIONS) or ["local"]


def region_queue(region: str) -> str:
    return f"monitors.{region}"


def batches(items: list, size: int = BATCH_SIZE):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def run_slots(slots: list[tuple], *, region: str | None = None, profile=None, now: datetime | None = None) -> dict:
    """Probe claimed (monitor_id, slot) pairs from `region`, grouped by network profile, and record every outcome."""
    region = region or regions()[0]
    slot_of = {str(mid): slot for mid, slot in slots}
    monitors = list(Monitor.objects.select_related("client").filter(pk__in=slot_of.keys(), enabled=True))
    by_profile = defaultdict(list)
    for m in monitors:
        by_profile[m.client.network_profile].append(m)
    outcomes = {}
    for name, group in by_profile.items():
        net_profile = profile or get_profile(name)
        outcomes.update(asyncio.run(probe_batch(net_profile, [ProbeSpec.of(m) for m in group])))
    now = now or timezone.now()
    for m in monitors:
        slot = slot_of[str(m.pk)]
        if isinstance(slot, str):
            slot = datetime.fromisoformat(slot)
        record(m, outcomes[m.pk], slot=slot, now=now, region=region)
    return outcomes


def record(monitor: Monitor, outcome: Outcome, *, slot: datetime, now: datetime | None = None,
           region: str | None = None) -> ProbeResult | None:
    now = now or timezone.now()
    region = region or regions()[0]
    with transaction.atomic():
        # One writer per monitor at a time, so two workers finishing two slots cannot both open an incident.
        list(Monitor.objects.select_for_update().filter(pk=monitor.pk).values_list("pk"))
        try:
            with transaction.atomic():
                result = ProbeResult.objects.create(
                    monitor=monitor, at=now, slot=slot, region=region, ok=outcome.ok, rechecked=outcome.rechecked,
                    status_code=outcome.status_code, latency_ms=outcome.latency_ms, error=outcome.error)
        except IntegrityError:  # this slot was already recorded (a redelivered task): do nothing twice
            return None
        if not Monitor.objects.filter(pk=monitor.pk, enabled=True, paused=False).exists():
            return result  # paused while this probe ran: kept as a result, but it opens and closes nothing
        confirmed_down = not outcome.ok and confirmed_elsewhere(monitor, slot, region)
        changes = {"last_checked_at": now, "last_latency_ms": outcome.latency_ms}
        if outcome.ok or confirmed_down:  # an unconfirmed one-region failure leaves the state as it was
            changes["state"] = monitor.state = Monitor.UP if outcome.ok else Monitor.DOWN
        Monitor.objects.filter(pk=monitor.pk).update(**changes)
        if outcome.ok:
            close_incident(monitor, now)
        elif confirmed_down and not monitor.in_maintenance(now):
            open_incident(monitor, outcome, now)
    return result


def stop_watching(monitor: Monitor, actor, now: datetime | None = None) -> Incident | None:
    """A monitor was paused or disabled: its open incident ends now (nobody watches it any more, and a resumed
    monitor must not report the paused hours as downtime) and its state is unknown until it is probed again. No
    alert: the person who paused it knows; resuming it while still down opens the incident again."""
    now = now or timezone.now()
    with transaction.atomic():
        list(Monitor.objects.select_for_update().filter(pk=monitor.pk).values_list("pk"))
        Monitor.objects.filter(pk=monitor.pk).update(state=Monitor.UNKNOWN)
        incident = Incident.objects.filter(monitor=monitor, closed_at=None).first()
        if incident is None or not Incident.objects.filter(pk=incident.pk, closed_at=None).update(closed_at=now):
            return None
        incident.alerts.filter(event=AlertAttempt.UP, status=AlertAttempt.PENDING).delete()
        monitor.client.log(actor, f"paused monitor {monitor.name} during an open incident "
                                  f"({incident.cause[:100]}); the incident was closed")
    incident.closed_at = now
    return incident


def confirmed_elsewhere(monitor: Monitor, slot: datetime, region: str) -> bool:
    """Does a failure of this slot in `region` count? Alone: yes. With several regions: only when another region
    failed the same slot too (a later-reporting region finds this one's result and confirms then)."""
    if len(regions()) < 2:
        return True
    return ProbeResult.objects.filter(monitor=monitor, slot=slot, ok=False).exclude(region=region).exists()


def open_incident(monitor: Monitor, outcome: Outcome, now: datetime) -> Incident | None:
    """Open an incident on a confirmed failure (one per outage); alert each enabled channel once."""
    if Incident.objects.filter(monitor=monitor, closed_at=None).exists():
        return None
    recent = Incident.objects.filter(monitor=monitor, closed_at__gte=now - FLAP_WINDOW).first()
    # Flapping: it came back up (an ok probe closed the incident) and failed again within the window, so the same
    # outage goes on. An incident ended by a pause saw no recovery: failing after the resume is a new incident.
    if recent is not None and ProbeResult.objects.filter(monitor=monitor, ok=True,
                                                         at__gte=recent.closed_at).exists():
        Incident.objects.filter(pk=recent.pk).update(closed_at=None)
        # A recovery still held back (below) is not sent; one already announced is corrected at once: whoever was
        # told "up" must hear it is down again, or a site that stays down stays silent.
        recent.alerts.filter(event=AlertAttempt.UP, status=AlertAttempt.PENDING).delete()
        if last_announced(recent) == AlertAttempt.UP:
            queue_alerts(recent, AlertAttempt.DOWN, now)
        return None
    incident = Incident.objects.create(monitor=monitor, opened_at=now, cause=outcome.error or "failed",
                                       public_cause=outcome.public_cause or "unavailable")
    queue_alerts(incident, AlertAttempt.DOWN, now)
    return incident


def close_incident(monitor: Monitor, now: datetime) -> Incident | None:
    incident = Incident.objects.filter(monitor=monitor, closed_at=None).first()
    if incident is None:
        return None
    if Incident.objects.filter(pk=incident.pk, closed_at=None).update(closed_at=now) != 1:
        return None
    incident.closed_at = now
    if last_announced(incident) != AlertAttempt.UP:
        # The first recovery is announced at once. An incident that went down again after that is flapping: its
        # next recovery waits out the flap window (a re-open within it withdraws the pending alert), so a site
        # going up and down each minute sends down, up, down, then one up once it has stayed up.
        flapping = incident.alerts.filter(event=AlertAttempt.UP).exists()
        queue_alerts(incident, AlertAttempt.UP, now, hold=FLAP_WINDOW if flapping else timedelta(0))
    return incident


def last_announced(incident: Incident) -> str | None:
    """DOWN or UP: what the incident's latest alert said (attempts are created in order; retries repeat it)."""
    return (incident.alerts.filter(event__in=(AlertAttempt.DOWN, AlertAttempt.UP)).order_by("-pk")
            .values_list("event", flat=True).first())


def queue_alerts(incident: Incident, event: str, now: datetime, *, hold: timedelta = timedelta(0)) -> list[AlertAttempt]:
    channels = AlertChannel.objects.filter(client_id=incident.monitor.client_id, enabled=True)
    attempts = [AlertAttempt.objects.create(channel=c, incident=incident, event=event, due_at=now + hold)
                for c in channels]
    if attempts and not hold:  # a held-back alert goes out later, with the tick's due retries
        from .tasks import deliver_alerts

        ids = [a.pk for a in attempts]
        transaction.on_commit(lambda: deliver_alerts.delay(ids))
    return attempts
