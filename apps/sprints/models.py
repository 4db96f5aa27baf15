from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from apps.core.models import PublicModel

SPRINT_HOURS = 48


def default_due():
    return timezone.now() + timedelta(hours=SPRINT_HOURS)


class Sprint(PublicModel):
    PLANNED, ACTIVE, HANDED_OVER, CLOSED = "planned", "active", "handed_over", "closed"
    STATUSES = [(PLANNED, "Planned"), (ACTIVE, "Active"), (HANDED_OVER, "Handed over"), (CLOSED, "Closed")]
    GO, NO_GO = "go", "no-go"
    DECISIONS = [(GO, "GO"), (NO_GO, "NO-GO")]

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="sprints")
    title = models.CharField(max_length=120, default="Launch readiness sprint")
    template = models.ForeignKey("checklists.ChecklistTemplate", null=True, on_delete=models.SET_NULL,
                                 related_name="sprints")
    starts_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(default=default_due)
    status = models.CharField(max_length=12, choices=STATUSES, default=PLANNED)
    decision = models.CharField(max_length=5, choices=DECISIONS, blank=True)
    decision_rationale = models.TextField(blank=True, max_length=5000)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["client", "status"]), models.Index(fields=["status", "due_at"])]

    def __str__(self):
        return f"{self.client} · {self.title}"

    @classmethod
    @transaction.atomic
    def start(cls, *, client, template=None, created_by=None, **fields):
        """Create a sprint with a snapshot of the template's items (later template edits don't touch it)."""
        from apps.checklists.models import ChecklistTemplate, SprintItem

        template = template or ChecklistTemplate.default()
        sprint = cls.objects.create(client=client, template=template, created_by=created_by, **fields)
        SprintItem.objects.bulk_create(
            SprintItem(sprint=sprint, stage_number=stage.number, stage_name=stage.name, position=item.position,
                       title=item.title, guidance=item.guidance, check_id=item.check_id, severity=item.severity)
            for stage in template.stages.prefetch_related("items")
            for item in stage.items.all()
        )
        sprint.log(created_by, f"started the sprint from “{template}”")
        return sprint

    def log(self, actor, text):
        return ActivityEntry.objects.create(sprint=self, client_id=self.client_id, actor=actor, text=text)

    @property
    def time_left(self):
        return self.due_at - timezone.now()

    @property
    def is_overdue(self):
        return self.status in (self.PLANNED, self.ACTIVE) and self.due_at < timezone.now()


class ActivityEntry(models.Model):
    """Who did what, when — on a client and (usually) one of its sprints."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="activity")
    sprint = models.ForeignKey(Sprint, null=True, blank=True, on_delete=models.CASCADE, related_name="activity")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["sprint", "-created_at"])]

    def __str__(self):
        return self.text
