from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.checklists.models import DONE_STATUSES
from apps.core.models import PublicModel

SPRINT_HOURS = 48


def default_due():
    return timezone.now() + timedelta(hours=SPRINT_HOURS)


def percent(done, total):
    return round(100 * done / total) if total else 0


def duration_words(delta):
    """'31 h 12 min' for a timedelta (sign ignored; under a minute reads '0 min')."""
    minutes = int(abs(delta.total_seconds()) // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    hours += 24 * days if days < 4 else 0
    parts = [f"{days} d"] if days >= 4 else []
    if hours:
        parts.append(f"{hours} h")
    parts.append(f"{minutes} min")
    return " ".join(parts)


class SprintQuerySet(models.QuerySet):
    def running(self):
        return self.filter(status__in=(Sprint.PLANNED, Sprint.ACTIVE))

    def with_progress(self):
        """Annotate items_total / items_done in the same query (the dashboard's constant-query promise).

        Correlated count subqueries, not a JOIN + GROUP BY: grouping made PostgreSQL walk every sprint in primary
        key order (1.6 s with 20,000 sprints, docs/performance.md); these are two index probes per listed sprint."""
        from apps.checklists.models import SprintItem

        def count(items):
            return Coalesce(models.Subquery(
                items.order_by().values("sprint_id").annotate(n=Count("pk")).values("n")[:1]), 0)

        items = SprintItem.objects.filter(sprint=models.OuterRef("pk"))
        return self.annotate(items_total=count(items), items_done=count(items.filter(status__in=DONE_STATUSES)))

    def with_latest_scan(self):
        """Annotate the id of each sprint's client's latest finished scan (one index probe a sprint); evaluating
        the queryset with attach_stage_progress() then reads those scans' score, grade, blockers and time in one
        query. One subquery, not one per column: four cost four probes a sprint and about a quarter of the
        dashboard's ORM work to build and compile."""
        from apps.checks.models import ScanRun

        latest = (ScanRun.objects.full().filter(client=models.OuterRef("client"), state=ScanRun.DONE)
                  .order_by("-finished_at"))
        return self.annotate(latest_scan_id=models.Subquery(latest.values("pk")[:1]))

    def current_for(self, clients):
        """{client id: its current sprint} — the running one, else the latest — each with `.stages` and their
        items, in three queries whatever the number of clients."""
        from apps.checklists.models import SprintItem

        # The active sprint first (a planned next one must not hide it from the founder), then a planned one.
        running_first = models.Case(models.When(status=Sprint.ACTIVE, then=0),
                                    models.When(status=Sprint.PLANNED, then=1), default=2)
        current = self.filter(client=models.OuterRef("pk")).order_by(running_first, "-starts_at").values("pk")[:1]
        current_ids = clients.annotate(current_sprint_id=models.Subquery(current)).values_list(
            "current_sprint_id", flat=True)
        sprints = {s.pk: s for s in self.filter(pk__in=[pk for pk in current_ids if pk])
                   .select_related("decided_by")}
        items = {pk: [] for pk in sprints}
        for item in SprintItem.objects.filter(sprint__in=sprints.keys()).select_related("updated_by").only(
                *SprintItem.ROW_FIELDS):
            items[item.sprint_id].append(item)
        for sprint in sprints.values():
            sprint.stages = sprint.stages_with_items(items[sprint.pk])
        return {sprint.client_id: sprint for sprint in sprints.values()}

    def attach_stage_progress(self):
        """Evaluate and give each sprint `.stage_progress` with one grouped query for all of them."""
        from apps.checklists.models import SprintItem

        sprints = list(self)
        by_sprint = {sprint.pk: [] for sprint in sprints}
        rows = (
            SprintItem.objects.filter(sprint__in=by_sprint.keys())
            .values("sprint_id", "stage_number", "stage_name")
            # counted on columns the stage-progress index holds (not id): an index-only scan
            .annotate(total=Count("*"), done=Count("status", filter=Q(status__in=DONE_STATUSES)))
            .order_by("sprint_id", "stage_number")
        ) if sprints else []
        for row in rows:
            by_sprint[row["sprint_id"]].append(StageProgress(row["stage_number"], row["stage_name"],
                                                             row["done"], row["total"]))
        attach_latest_scans(sprints)
        for sprint in sprints:
            sprint.stage_progress = by_sprint[sprint.pk]
            # the overall counts are the stages' sums: no second pass over the items (with_progress() not needed)
            sprint.items_total = sum(stage.total for stage in sprint.stage_progress)
            sprint.items_done = sum(stage.done for stage in sprint.stage_progress)
        return sprints


def attach_latest_scans(sprints):
    """Give sprints annotated by with_latest_scan() `latest_score`, `latest_grade`, `latest_blockers` and
    `latest_scan_at` (all None without a finished scan), reading the scans in one query."""
    from apps.checks.models import ScanRun

    ids = {sprint.latest_scan_id for sprint in sprints if getattr(sprint, "latest_scan_id", None)}
    scans = {pk: rest for pk, *rest in ScanRun.objects.filter(pk__in=ids).values_list(
        "pk", "score", "grade", "blockers", "finished_at")} if ids else {}
    for sprint in sprints:
        if hasattr(sprint, "latest_scan_id"):
            (sprint.latest_score, sprint.latest_grade, sprint.latest_blockers,
             sprint.latest_scan_at) = scans.get(sprint.latest_scan_id, (None, None, None, None))


class StageProgress:
    """One stage of one sprint: counts, and (on the sprint page) its items."""

    def __init__(self, number, name, done, total, items=None):
        self.number, self.name, self.done, self.total = number, name, done, total
        self.items = items or []

    @property
    def percent(self):
        return percent(self.done, self.total)


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
    handed_over_at = models.DateTimeField(null=True, blank=True)

    objects = SprintQuerySet.as_manager()

    # The only moves a consultant makes by hand: forward, one step at a time.
    NEXT_STATUS = {PLANNED: ACTIVE, ACTIVE: HANDED_OVER, HANDED_OVER: CLOSED}

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
        text = text if len(text) <= 500 else text[:499] + "…"
        return ActivityEntry.objects.create(sprint=self, client_id=self.client_id, actor=actor, text=text)

    @property
    def time_left(self):
        return self.due_at - timezone.now()

    @property
    def is_running(self):
        return self.status in (self.PLANNED, self.ACTIVE)

    @property
    def is_overdue(self):
        return self.is_running and self.due_at < timezone.now()

    @property
    def countdown(self):
        """Server-rendered time left of the 48 hours: '31 h 12 min left' or 'overdue by 2 h 5 min'."""
        if not self.is_running:
            return self.get_status_display().lower()
        left = self.time_left
        if left.total_seconds() < 0:
            return f"overdue by {duration_words(left)}"
        return f"{duration_words(left)} left"

    @property
    def progress_percent(self):
        """Needs with_progress() (dashboard) or falls back to counting (one query)."""
        if not hasattr(self, "items_total"):
            counts = self.items.aggregate(
                total=Count("id"), done=Count("id", filter=Q(status__in=DONE_STATUSES)))
            self.items_total, self.items_done = counts["total"], counts["done"]
        return percent(self.items_done, self.items_total)

    def stages_with_items(self, items):
        """Group this sprint's items (already fetched, in stage order) into StageProgress rows."""
        stages = {}
        for item in items:
            stage = stages.get(item.stage_number)
            if stage is None:
                stage = stages[item.stage_number] = StageProgress(item.stage_number, item.stage_name, 0, 0)
            stage.items.append(item)
            stage.total += 1
            stage.done += item.is_done
        self.items_total = sum(s.total for s in stages.values())
        self.items_done = sum(s.done for s in stages.values())
        return list(stages.values())

    @property
    def next_status(self):
        return self.NEXT_STATUS.get(self.status)

    @transaction.atomic
    def change_status(self, status, actor):
        """Move one step forward. A conditional UPDATE claims the move, so when two people click at once only
        one change (and one log line) happens; returns False for the one who lost."""
        if status != self.next_status:
            raise ValueError(f"A {self.status} sprint cannot become {status}.")
        changes = {"status": status}
        if status == self.HANDED_OVER:
            changes["handed_over_at"] = timezone.now()
        if not Sprint.objects.filter(pk=self.pk, status=self.status).update(**changes):
            self.refresh_from_db(fields=["status", "handed_over_at"])
            return False
        previous = self.get_status_display()
        for field, value in changes.items():
            setattr(self, field, value)
        self.log(actor, f"changed the status from {previous} to {self.get_status_display()}")
        return True

    DECISION_FINAL = (HANDED_OVER, CLOSED)  # the issued handover pack carries the decision: it no longer changes

    @transaction.atomic
    def record_decision(self, decision, rationale, actor, *, seen=None) -> bool:
        """Record the go/no-go. `seen`: the decision time the person's form showed (None: do not check); if another
        decision was recorded since, or the sprint was handed over, nothing changes and the answer is False."""
        now = timezone.now()
        rows = Sprint.objects.filter(pk=self.pk).exclude(status__in=self.DECISION_FINAL)
        if seen is not None:
            rows = rows.filter(decided_at=seen) if seen else rows.filter(decided_at__isnull=True)
        if not rows.update(decision=decision, decision_rationale=rationale, decided_by=actor, decided_at=now):
            return False
        self.decision, self.decision_rationale, self.decided_by, self.decided_at = decision, rationale, actor, now
        self.log(actor, f"decided {self.get_decision_display()}: {rationale}")
        return True


class ActivityEntry(models.Model):
    """Who did what, when — on a client and (usually) one of its sprints."""

    ROW_FIELDS = ("id", "client", "sprint", "text", "created_at", "actor", "actor__name", "actor__email")  # for .only()

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="activity")
    sprint = models.ForeignKey(Sprint, null=True, blank=True, on_delete=models.CASCADE, related_name="activity")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["sprint", "-created_at"]),
            # the client page's client-level log (sprint IS NULL), newest first
            models.Index(fields=["client", "-created_at"], condition=Q(sprint=None), name="activity_client_level"),
        ]

    def __str__(self):
        return self.text
