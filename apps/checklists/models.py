from django.db import models, transaction
from django.db.models import F, Max
from django.utils import timezone

from apps.core.models import PublicModel

SEVERITIES = [(s, s) for s in ["blocker", "high", "medium", "low", "info"]]
# Item states that need no more work: "warn" is accepted with evidence, "na" does not apply.
DONE_STATUSES = ("pass", "warn", "na")


class ChecklistTemplate(PublicModel):
    """A versioned checklist. workspace=None is the system default roadmap; workspaces copy and edit."""

    workspace = models.ForeignKey("tenants.Workspace", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="templates")
    name = models.CharField(max_length=120)
    version = models.PositiveIntegerField(default=1)
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies")

    class Meta:
        ordering = ["name", "-version"]

    def __str__(self):
        return f"{self.name} v{self.version}"

    @property
    def is_system(self):
        """The built-in roadmap: read-only, copied by workspaces that want their own."""
        return self.workspace_id is None

    def bump_version(self):
        """Every edit of a workspace template makes a new version; sprints keep their snapshot anyway."""
        ChecklistTemplate.objects.filter(pk=self.pk).update(version=F("version") + 1)
        self.refresh_from_db(fields=["version"])

    def rename(self, name):
        self.name = name
        self.save(update_fields=["name"])
        self.bump_version()

    @classmethod
    def default(cls):
        """The system roadmap template at the current ROADMAP_VERSION (created on first use)."""
        from .roadmap import ROADMAP_VERSION, STAGES

        template = cls.objects.filter(workspace=None, version=ROADMAP_VERSION).first()
        if template:
            return template
        with transaction.atomic():
            template = cls.objects.create(workspace=None, name="Launch readiness roadmap", version=ROADMAP_VERSION)
            for number, name, items in STAGES:
                stage = TemplateStage.objects.create(template=template, number=number, name=name)
                TemplateItem.objects.bulk_create(
                    TemplateItem(stage=stage, position=i, title=title, check_id=check_id, severity=severity,
                                 guidance=guidance)
                    for i, (title, check_id, severity, guidance) in enumerate(items, start=1)
                )
        return template

    @transaction.atomic
    def copy_to(self, workspace, name=None):
        copy = ChecklistTemplate.objects.create(
            workspace=workspace, name=name or self.name, version=1, based_on=self
        )
        for stage in self.stages.prefetch_related("items"):
            new_stage = TemplateStage.objects.create(template=copy, number=stage.number, name=stage.name)
            TemplateItem.objects.bulk_create(
                TemplateItem(stage=new_stage, position=item.position, title=item.title, check_id=item.check_id,
                             severity=item.severity, guidance=item.guidance)
                for item in stage.items.all()
            )
        return copy


class TemplateStage(PublicModel):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="stages")
    number = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return f"{self.number}. {self.name}"

    @transaction.atomic
    def add_item(self, **fields):
        last = self.items.aggregate(last=Max("position"))["last"] or 0
        item = TemplateItem.objects.create(stage=self, position=last + 1, **fields)
        self.template.bump_version()
        return item


class TemplateItem(PublicModel):
    stage = models.ForeignKey(TemplateStage, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=1)
    title = models.CharField(max_length=200)
    guidance = models.TextField(blank=True)
    check_id = models.CharField(max_length=60, blank=True, help_text="Automated check id, if any.")
    severity = models.CharField(max_length=10, choices=SEVERITIES, default="medium")

    class Meta:
        ordering = ["position"]

    def __str__(self):
        return self.title

    @property
    def template(self):
        return self.stage.template

    @transaction.atomic
    def save_edit(self):
        self.save()
        self.template.bump_version()

    @transaction.atomic
    def remove(self):
        stage = self.stage
        self.delete()
        for position, item in enumerate(stage.items.all(), start=1):
            if item.position != position:
                TemplateItem.objects.filter(pk=item.pk).update(position=position)
        stage.template.bump_version()

    @transaction.atomic
    def move(self, direction):
        """Swap places with the neighbour above ("up") or below ("down"); at either end nothing moves."""
        siblings = self.stage.items.exclude(pk=self.pk)
        if direction == "up":
            neighbour = siblings.filter(position__lt=self.position).order_by("-position").first()
        else:
            neighbour = siblings.filter(position__gt=self.position).order_by("position").first()
        if neighbour is None:
            return False
        self.position, neighbour.position = neighbour.position, self.position
        TemplateItem.objects.bulk_update([self, neighbour], ["position"])
        self.stage.template.bump_version()
        return True


# How a scan's worst finding for a check maps onto the checklist item; `error`/`skipped` decide nothing.
SCAN_TO_ITEM_STATUS = {"pass": "pass", "warn": "warn", "fail": "fail"}


class SprintItem(PublicModel):
    """A sprint's snapshot of one template item, with its status and evidence."""

    STATUSES = [("todo", "to do"), ("pass", "pass"), ("warn", "warn"), ("fail", "fail"), ("na", "n/a")]
    DONE_STATUSES = DONE_STATUSES
    EDITABLE_FIELDS = ["status", "evidence_text", "evidence_link", "owner", "override_reason"]
    # The columns an item's row shows (sprint_rows.item_row), for .only() on the pages that list items: a deferred
    # column read there would be a query per row, which the query-budget tests catch.
    ROW_FIELDS = ("id", "sprint", "stage_number", "stage_name", "position", "title", "guidance", "check_id",
                  "severity", "status", "evidence_text", "evidence_link", "owner", "updated_at", "scan_status",
                  "scan_summary", "override_reason", "updated_by", "updated_by__name", "updated_by__email")

    sprint = models.ForeignKey("sprints.Sprint", on_delete=models.CASCADE, related_name="items")
    stage_number = models.PositiveSmallIntegerField()
    stage_name = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField(default=1)
    title = models.CharField(max_length=200)
    guidance = models.TextField(blank=True)
    check_id = models.CharField(max_length=60, blank=True)
    severity = models.CharField(max_length=10, choices=SEVERITIES, default="medium")
    status = models.CharField(max_length=4, choices=STATUSES, default="todo")
    evidence_text = models.TextField(blank=True, max_length=5000)
    evidence_link = models.URLField(blank=True, max_length=500)
    owner = models.CharField(max_length=120, blank=True)
    updated_by = models.ForeignKey("tenants.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(null=True, blank=True)
    # What the latest scan said about this item's check, kept apart from `status` so an override stays visible.
    scan_status = models.CharField(max_length=7, blank=True)
    scan_summary = models.CharField(max_length=500, blank=True)
    scan = models.ForeignKey("checks.ScanRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    override_reason = models.TextField(blank=True, max_length=2000,
                                       help_text="Why the consultant's verdict differs from the scan's.")

    class Meta:
        ordering = ["stage_number", "position"]
        # stage_name and status ride along so the dashboard's per-stage counts (attach_stage_progress) are an
        # index-only scan, whatever the order the items' rows lie in the table.
        indexes = [models.Index(fields=["sprint", "stage_number", "position"], include=["stage_name", "status"],
                                name="sprintitem_stage_progress")]

    def __str__(self):
        return self.title

    @property
    def disagrees_with_scan(self):
        """The consultant overrode the item and the latest scan says otherwise."""
        return bool(self.override_reason and self.scan_status and
                    SCAN_TO_ITEM_STATUS.get(self.scan_status, self.status) != self.status)

    @property
    def is_done(self):
        return self.status in self.DONE_STATUSES

    @transaction.atomic
    def record_update(self, actor, changed_fields):
        """Save a consultant's edit and write what changed to the sprint's activity log."""
        changed = [f for f in self.EDITABLE_FIELDS if f in changed_fields]
        if not changed:
            return
        if "override_reason" in changed and not self.override_reason and "status" not in changed:
            # The override was emptied ("let the scan decide again"): the scan's verdict is the status from now on,
            # not the overridden one left standing without its reason (and without the disagreement badge).
            scan_says = SCAN_TO_ITEM_STATUS.get(self.scan_status)
            if scan_says and scan_says != self.status:
                self.status = scan_says
                changed.append("status")
        self.updated_by = actor
        self.updated_at = timezone.now()
        self.save(update_fields=[*changed, "updated_by", "updated_at"])
        what = []
        if "status" in changed:
            what.append(f"status → {self.get_status_display()}")
        if "evidence_text" in changed or "evidence_link" in changed:
            what.append("evidence")
        if "owner" in changed:
            what.append(f"owner → {self.owner or 'nobody'}")
        if "override_reason" in changed:
            what.append(f"overrides the scan: {self.override_reason[:120]}" if self.override_reason
                        else "the scan decides again")
        self.sprint.log(actor, f"updated “{self.title}”: {', '.join(what)}")
