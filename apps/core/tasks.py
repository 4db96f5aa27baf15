import logging

from celery import shared_task
from django.db.models import F
from django.utils import timezone

from .models import WorkerHeartbeat

log = logging.getLogger(__name__)


@shared_task(bind=True)
def heartbeat(self, marker=""):
    """Record that a worker consumed a task from the broker (worker health for operators and tests)."""
    hostname = self.request.hostname or "unknown"
    queue = (self.request.delivery_info or {}).get("routing_key", "")
    updated = WorkerHeartbeat.objects.filter(hostname=hostname).update(
        last_seen=timezone.now(), beats=F("beats") + 1, queue=queue
    )
    if not updated:
        WorkerHeartbeat.objects.get_or_create(
            hostname=hostname, defaults={"last_seen": timezone.now(), "beats": 1, "queue": queue}
        )
    log.info("heartbeat", extra={"marker": marker, "queue": queue})
    return marker
