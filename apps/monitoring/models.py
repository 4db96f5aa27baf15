"""Uptime monitors, their results (raw + rollups), incidents, alert channels and every delivery attempt.

Storage is bounded by design: raw results live RAW_RETENTION, minute rollups MINUTE_RETENTION, hour rollups
HOUR_RETENTION and day rollups DAY_RETENTION; `apps.monitoring.storage.prune` deletes anything older.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from apps.core.domains import DomainError, is_under, normalize_domain
from apps.core.models import PublicModel

from .crypto import decrypt, encrypt

RAW_RETENTION = timedelta(hours=48)
MINUTE_RETENTION = timedelta(hours=48)
HOUR_RETENTION = timedelta(days=90)
DAY_RETENTION = timedelta(days=400)
# A failure confirmed this soon after an incident closed re-opens it silently: a flapping endpoint alerts once.
FLAP_WINDOW = timedelta(minutes=10)


class Monitor(PublicModel):
    UNKNOWN, UP, DOWN = "unknown", "up", "down"
    STATES = [(UNKNOWN, "unknown"), (UP, "up"), (DOWN, "down")]

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="monitors")
    endpoint = models.ForeignKey("clients.Endpoint", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="monitors")
    name = models.CharField(max_length=120)
    url = models.URLField(max_length=500)
    interval_seconds = models.PositiveIntegerField(default=60, validators=[MinValueValidator(30),
                                                                           MaxValueValidator(600)])
    timeout_seconds = models.PositiveIntegerField(default=10, validators=[MinValueValidator(1),
                                                                          MaxValueValidator(30)])
    expected_status = models.PositiveIntegerField(default=200, validators=[MinValueValidator(100),
                                                                           MaxValueValidator(599)])
    keyword = models.CharField(max_length=200, blank=True, help_text="Text the response body must contain.")
    json_field = models.CharField(max_length=200, blank=True,
                                  help_text='A dotted path that must be present and truthy in a JSON body, e.g. "ok".')
    enabled = models.BooleanField(default=True)
    paused = models.BooleanField(default=False)
    maintenance_start = models.DateTimeField(null=True, blank=True)
    maintenance_end = models.DateTimeField(null=True, blank=True)
    next_due = models.DateTimeField(default=timezone.now, db_index=True)
    state = models.CharField(max_length=8, choices=STATES, default=UNKNOWN)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        parts = urlsplit(self.url or "")
        if self.url and parts.scheme not in ("http", "https"):
            raise ValidationError({"url": "Use an http:// or https:// URL."})
        if self.url and self.client_id:
            try:
                host = normalize_domain(parts.hostname or "")
            except DomainError as exc:
                raise ValidationError({"url": f"The URL's host is not usable: {exc}"}) from None
            if not is_under(host, self.client.domain):
                raise ValidationError({"url": f"The URL must be on {self.client.domain} or one of its subdomains."})
        if self.maintenance_start and self.maintenance_end and self.maintenance_end <= self.maintenance_start:
            raise ValidationError({"maintenance_end": "The window must end after it starts."})

    def in_maintenance(self, now=None) -> bool:
        now = now or timezone.now()
        return bool(self.maintenance_start and self.maintenance_end
                    and self.maintenance_start <= now < self.maintenance_end)

    @property
    def open_incident(self):
        return self.incidents.filter(closed_at=None).first()

    @property
    def status_word(self) -> str:
        if self.paused or not self.enabled:
            return "paused"
        if self.in_maintenance():
            return "maintenance"
        return self.state


class ProbeResult(models.Model):
    """One probed slot from one region: `ok` is the region's outcome (a failure counts only when the immediate
    re-check fails, and, with several regions, when another region failed the same slot)."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="results")
    at = models.DateTimeField(db_index=True)
    ok = models.BooleanField()
    rechecked = models.BooleanField(default=False)
    status_code = models.PositiveIntegerField(null=True)
    latency_ms = models.PositiveIntegerField(null=True)
    error = models.CharField(max_length=300, blank=True)  # internal: never shown on the public status page
    # The slot this result belongs to (the claimed next_due): with the unique constraint, a slot is recorded once.
    slot = models.DateTimeField()
    region = models.CharField(max_length=32, default="local")  # the region (queue monitors.<region>) that probed

    class Meta:
        ordering = ["-at"]
        constraints = [models.UniqueConstraint(fields=["monitor", "slot", "region"],
                                               name="one_result_per_slot_and_region")]
        indexes = [models.Index(fields=["monitor", "at"])]

    def __str__(self):
        return f"{self.monitor_id} @ {self.at:%Y-%m-%d %H:%M:%S}: {'ok' if self.ok else 'failed'}"


class Rollup(models.Model):
    MINUTE, HOUR, DAY = "minute", "hour", "day"
    PERIODS = [(MINUTE, "minute"), (HOUR, "hour"), (DAY, "day")]

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="rollups")
    period = models.CharField(max_length=6, choices=PERIODS)
    start = models.DateTimeField()
    probes = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    p50_ms = models.PositiveIntegerField(null=True)
    p95_ms = models.PositiveIntegerField(null=True)

    class Meta:
        ordering = ["start"]
        constraints = [models.UniqueConstraint(fields=["monitor", "period", "start"], name="one_rollup_per_period")]
        indexes = [models.Index(fields=["period", "start"])]

    def __str__(self):
        return f"{self.monitor_id} {self.period} {self.start:%Y-%m-%d %H:%M}"

    @property
    def availability(self) -> float | None:
        return None if not self.probes else 100.0 * (self.probes - self.failures) / self.probes


class Incident(PublicModel):
    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="incidents")
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    cause = models.CharField(max_length=300)  # internal wording (status, error kind)
    public_cause = models.CharField(max_length=120)  # what the status page may say

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self):
        return f"{self.monitor}: {self.cause}"

    @property
    def duration(self) -> timedelta:
        return (self.closed_at or timezone.now()) - self.opened_at

    @property
    def duration_text(self) -> str:
        minutes = max(1, int(self.duration.total_seconds() // 60))
        return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


class AlertChannel(PublicModel):
    EMAIL, SLACK, WEBHOOK = "email", "slack", "webhook"
    KINDS = [(EMAIL, "Email"), (SLACK, "Slack incoming webhook"), (WEBHOOK, "Webhook (HMAC-signed)")]

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="alert_channels")
    kind = models.CharField(max_length=8, choices=KINDS)
    name = models.CharField(max_length=120)
    owner = models.CharField(max_length=120, help_text="The person who acts on these alerts.")
    target_encrypted = models.TextField()  # an email address or a URL, Fernet-encrypted
    secret_encrypted = models.TextField(blank=True)  # the webhook's HMAC key, Fernet-encrypted
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)  # last time a test alert got through

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def target(self) -> str:
        return decrypt(self.target_encrypted)

    @target.setter
    def target(self, value: str):
        self.target_encrypted = encrypt(value)

    @property
    def secret(self) -> str:
        return decrypt(self.secret_encrypted) if self.secret_encrypted else ""

    @secret.setter
    def secret(self, value: str):
        self.secret_encrypted = encrypt(value) if value else ""

    @property
    def target_hint(self) -> str:
        """Enough of the target to recognise it, not enough to use it."""
        value = self.target
        if self.kind == self.EMAIL:
            return value
        parts = urlsplit(value)
        return f"{parts.scheme}://{parts.hostname}/…"

    def disable(self, reason: str):
        AlertChannel.objects.filter(pk=self.pk).update(enabled=False, disabled_reason=reason[:300])
        self.enabled, self.disabled_reason = False, reason[:300]


class AlertAttempt(models.Model):
    """Every delivery attempt. A pending row is claimed by a conditional UPDATE before it is sent."""

    PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
    STATUSES = [(PENDING, "pending"), (SENDING, "sending"), (SENT, "sent"), (FAILED, "failed")]
    DOWN, UP, TEST, NOTICE = "down", "up", "test", "notice"
    EVENTS = [(DOWN, "down"), (UP, "up"), (TEST, "test"), (NOTICE, "notice")]
    MAX_ATTEMPTS = 4

    channel = models.ForeignKey(AlertChannel, on_delete=models.CASCADE, related_name="attempts")
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    event = models.CharField(max_length=6, choices=EVENTS)
    text = models.TextField(blank=True)  # notices only: certificate expiry, readiness regression
    number = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=8, choices=STATUSES, default=PENDING)
    due_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)  # when a worker claimed it (pending → sending)
    finished_at = models.DateTimeField(null=True, blank=True)
    permanent = models.BooleanField(default=False)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-due_at"]
        indexes = [models.Index(fields=["status", "claimed_at"], name="alertattempt_claimed")]

    def __str__(self):
        return f"{self.event} alert #{self.number} via {self.channel_id}: {self.status}"


class StatusPage(models.Model):
    """The opt-in public status page of a client, at an unguessable URL."""

    client = models.OneToOneField("clients.Client", on_delete=models.CASCADE, related_name="status_page")
    token = models.CharField(max_length=64, unique=True, default=secrets.token_urlsafe)
    enabled = models.BooleanField(default=False)

    def __str__(self):
        return f"status page of {self.client}"
