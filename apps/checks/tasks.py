"""Thin Celery tasks: take ids, call pipeline functions (routed to the `scans` queue in settings)."""

import random

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from . import pipeline, rescans


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True,
             retry_backoff_max=30, max_retries=5)
def run_scan_parts(part_ids):
    """A batch of one scan's parts (pipeline.plan_batches); parts already finished are skipped."""
    try:
        pipeline.run_parts(part_ids)
    except pipeline.HostBusy:
        # The target's slots are all taken: publish a fresh attempt shortly (not a retry, so politeness waits never
        # use up the retries kept for transient errors). If publishing fails, beat re-dispatches the unstarted parts.
        delay = settings.SCAN_HOST_BUSY_RETRY_SECONDS * (1 + random.random())
        run_scan_parts.apply_async((part_ids,), countdown=delay)


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True,
             retry_backoff_max=30, max_retries=5)
def run_scan_part(part_id):
    """One part: what dispatch published before parts were batched (messages still queued at an upgrade)."""
    run_scan_parts([part_id])


@shared_task
def finalize_overdue_scans():
    return pipeline.finalize_overdue()


@shared_task
def redispatch_stalled_parts():
    return pipeline.redispatch_stalled()


@shared_task
def start_due_rescans():
    return rescans.start_due_rescans()
