import uuid

from django.db import models


class PublicModel(models.Model):
    """Base for rows that appear in URLs: an opaque UUID primary key, never a sequential integer."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class WorkerHeartbeat(models.Model):
    """One row per Celery worker host, touched by a periodic task: the operator's 'are workers alive?'."""

    hostname = models.CharField(max_length=255, unique=True)
    queue = models.CharField(max_length=100, blank=True)
    last_seen = models.DateTimeField()
    beats = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.hostname} @ {self.last_seen:%Y-%m-%d %H:%M:%S}"
