"""Thin Celery tasks (routed to the `reports` queue in settings): take ids, call documents.py."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import documents


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True,
             retry_backoff_max=30, max_retries=5)
def generate_handover_pack(pack_id):
    return documents.generate_pack(pack_id)


@shared_task
def redispatch_stalled_packs():
    return documents.redispatch_stalled()
