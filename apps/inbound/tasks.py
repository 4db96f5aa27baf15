"""Thin Celery task: the receiver publishes it once an arrival is committed (queue `default`)."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

log = logging.getLogger(__name__)

# Publishing gives up after about a second, so the SMTP session never hangs on a dead broker.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 0.5}


@shared_task(queue="default", acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True,
             retry_backoff_max=30, max_retries=5)
def record_delivery_finding(deliverytest_id):
    from .findings import record_in_checklist
    from .models import DeliveryTest

    test = DeliveryTest.objects.filter(pk=deliverytest_id).first()
    if test is not None:
        record_in_checklist(test)


def publish_delivery_finding(deliverytest_id) -> None:
    """Queue the task; when the broker is unreachable, record the finding here instead of losing it."""
    try:
        record_delivery_finding.apply_async((str(deliverytest_id),), retry=True, retry_policy=PUBLISH_RETRY)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise many types for "broker down"
        log.warning("could not publish the delivery finding (%s); recording it inline", exc)
        record_delivery_finding(str(deliverytest_id))
