"""Celery tasks of monitoring (routed to the `monitors` queue): thin wrappers over service/alerts/storage."""

from celery import shared_task
from django.utils import timezone

from . import alerts, service, storage


@shared_task(ignore_result=True)
def tick():
    """One beat tick: claim due monitor slots and dispatch each batch to every region's queue (monitors.<region>);
    dispatch due alert retries."""
    now = timezone.now()
    claimed = service.claim_due(now)
    for batch in service.batches(claimed):
        slots = [(str(mid), slot.isoformat()) for mid, slot in batch]
        for region in service.regions():
            probe_slots.apply_async(args=[slots, region], queue=service.region_queue(region))
    due = alerts.due_attempt_ids(now)
    if due:
        deliver_alerts.delay([str(i) for i in due])
    return len(claimed)


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=100, time_limit=120)
def probe_slots(slots, region=None):
    service.run_slots([(mid, slot) for mid, slot in slots], region=region)


@shared_task(ignore_result=True, acks_late=True)
def deliver_alerts(attempt_ids):
    for attempt_id in attempt_ids:
        alerts.deliver(attempt_id)


@shared_task(ignore_result=True)
def rollup_and_prune():
    storage.rollup()
    storage.prune()
    alerts.recover_interrupted()
