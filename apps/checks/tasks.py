"""Thin Celery tasks: take ids, call pipeline functions (routed to the `scans` queue in settings)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import pipeline


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True,
             retry_backoff_max=30, max_retries=5)
def run_scan_part(part_id):
    pipeline.run_part(part_id)


@shared_task
def finalize_overdue_scans():
    return pipeline.finalize_overdue()


@shared_task
def redispatch_stalled_parts():
    return pipeline.redispatch_stalled()
