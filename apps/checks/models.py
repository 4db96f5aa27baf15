"""Scan runs and their findings (SPEC.md §3 Finding shape). The engine itself lives in `engine/` and knows no ORM."""

from django.conf import settings
from django.db import models

from apps.core.models import PublicModel

FINDING_STATUSES = [(s, s) for s in ["pass", "warn", "fail", "error", "skipped"]]
SEVERITIES = [(s, s) for s in ["blocker", "high", "medium", "low", "info"]]


class ScanRunQuerySet(models.QuerySet):
    def full(self):
        """Scans of the whole catalogue. A deploy's smoke test (4 checks, maybe of staging) or a delivery test's one
        check (options "only") scores only what it ran — 100 for four passes — and must never read as the client's
        readiness, a baseline to compare with, or the latest scan."""
        return self.filter(partial=False)


class ScanRun(PublicModel):
    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
    STATES = [(QUEUED, "Queued"), (RUNNING, "Running"), (DONE, "Done"), (FAILED, "Failed")]

    client = models.ForeignKey("clients.Client", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="scans")
    sprint = models.ForeignKey("sprints.Sprint", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="scans")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    profile = models.CharField(max_length=40, help_text="Network profile name (decided by settings).")
    domain = models.CharField(max_length=253)
    target = models.JSONField(default=dict, help_text="The engine Target this scan ran with (no secrets).")
    options = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=8, choices=STATES, default=QUEUED)
    parts_total = models.PositiveIntegerField(default=0)
    parts_done = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    grade = models.CharField(max_length=2, blank=True)
    decision = models.CharField(max_length=5, blank=True)
    blockers = models.PositiveIntegerField(default=0)
    failure_reason = models.CharField(max_length=500, blank=True)
    # Ran only some checks (options "only"): set on save from the options; a plain column because the busy pages
    # filter on it (a JSON condition cost them 5 % of their CPU to build and compile).
    partial = models.BooleanField(default=False, db_default=False)

    objects = ScanRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["client", "-created_at"]),
            models.Index(fields=["sprint", "-created_at"]),
            models.Index(fields=["state", "deadline"]),
            # the dashboard's latest finished scan per client (SprintQuerySet.with_latest_scan): one index probe
            models.Index(fields=["client", "state", "-finished_at"], name="scanrun_client_latest_done"),
        ]

    def __str__(self):
        return f"scan of {self.domain} ({self.state})"

    def save(self, *args, **kwargs):
        self.partial = bool((self.options or {}).get("only"))
        if kwargs.get("update_fields") is not None and "options" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "partial"}
        super().save(*args, **kwargs)

    @property
    def progress_pct(self):
        return int(100 * self.parts_done / self.parts_total) if self.parts_total else 0


class ScanPart(models.Model):
    """One (family × hostname) unit of a scan: the unit a Celery task runs; finished exactly once."""

    scan = models.ForeignKey(ScanRun, on_delete=models.CASCADE, related_name="parts")
    family = models.CharField(max_length=20)
    hostname = models.CharField(max_length=253, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A task for this part was alive then, waiting for a connection slot: beat need not publish it again.
    waiting_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scan", "family", "hostname"], name="one_part_per_unit")]
        indexes = [models.Index(fields=["finished_at", "started_at"])]

    def __str__(self):
        return f"{self.family} on {self.hostname or 'the domain'}"


class Finding(models.Model):
    scan = models.ForeignKey(ScanRun, on_delete=models.CASCADE, related_name="findings")
    check_id = models.CharField(max_length=60)
    target = models.CharField(max_length=500)
    status = models.CharField(max_length=7, choices=FINDING_STATUSES)
    severity = models.CharField(max_length=7, choices=SEVERITIES)
    summary = models.CharField(max_length=500)
    evidence = models.JSONField(default=dict)
    remediation = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    # A check may report several findings on one target (each secret in a repository): they are told apart by
    # their order within the part that produced them, so a retried part still cannot store one twice.
    ordinal = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["check_id", "target", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["scan", "check_id", "target", "ordinal"],
                                    name="one_finding_per_check_target_ordinal")
        ]
        indexes = [models.Index(fields=["scan", "status"])]

    def __str__(self):
        return f"{self.check_id} {self.target}: {self.status}"


class SprintCanaries(models.Model):
    """The AI audit's canary tokens for one sprint: the founder plants them (system prompt, a seeded test user's
    private data) and the ai.* checks look for them in the bot's replies. Fresh per sprint, stable within it."""

    sprint = models.OneToOneField("sprints.Sprint", on_delete=models.CASCADE, related_name="canaries")
    system = models.CharField(max_length=80)
    user_data = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"canaries of {self.sprint}"

    @classmethod
    def for_sprint(cls, sprint):
        from .engine.ai import new_audit_canaries

        existing = next(iter(cls.objects.filter(sprint=sprint)[:1]), None)  # one row at most: no ORDER BY
        if existing:
            return existing
        fresh = new_audit_canaries()
        obj, _ = cls.objects.get_or_create(sprint=sprint, defaults={"system": fresh["system"],
                                                                    "user_data": fresh["user_data"]})
        return obj

    def tokens(self) -> dict[str, str]:
        return {"system": self.system, "user_data": self.user_data}

    def instructions(self) -> list[str]:
        from .engine.ai import planting_instructions

        return planting_instructions(self.tokens())
class HostLease(models.Model):
    """One of the connection slots to a target domain, held by a running part across all workers (politeness).

    Claimed and released by conditional UPDATE (works the same on SQLite and PostgreSQL); a lease expires so a
    worker killed mid-part cannot hold its slot for ever."""

    key = models.CharField(max_length=253, help_text="The target's domain.")
    slot = models.PositiveSmallIntegerField()
    holder = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "slot"], name="one_lease_per_host_slot")]

    def __str__(self):
        return f"{self.key} slot {self.slot} ({self.holder or 'free'})"


class DailyRescan(models.Model):
    """A client's opt-in daily re-scan, while it has an active or handed-over sprint (apps/checks/rescans.py)."""

    client = models.OneToOneField("clients.Client", on_delete=models.CASCADE, related_name="daily_rescan")
    enabled = models.BooleanField(default=False)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_scan = models.ForeignKey(ScanRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["enabled", "next_run_at"])]

    def __str__(self):
        return f"daily re-scan of {self.client} ({'on' if self.enabled else 'off'})"
