from datetime import datetime, timedelta

from django import forms
from django.core.validators import URLValidator
from django.db.models import F, Q
from django.utils import timezone

from apps.checklists.models import SCAN_TO_ITEM_STATUS, ChecklistTemplate, SprintItem

from .models import SPRINT_HOURS, Sprint

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
MAX_SPRINT_LENGTH = timedelta(days=90)


MAX_PLANNING_DISTANCE = timedelta(days=730)


class SprintStartForm(forms.ModelForm):
    """Start a sprint for one client, from the default roadmap or one of the client's workspace templates."""

    template = forms.ModelChoiceField(queryset=ChecklistTemplate.objects.none(), empty_label=None,
                                      help_text="The sprint copies the template's items now; later edits "
                                                "of the template do not change it.")
    starts_at = forms.DateTimeField(widget=DATETIME_INPUT, help_text="UTC.")
    due_at = forms.DateTimeField(widget=DATETIME_INPUT, required=False,
                                 help_text=f"UTC. Leave empty for {SPRINT_HOURS} hours after the start.")
    status = forms.ChoiceField(choices=[(Sprint.PLANNED, "Planned"), (Sprint.ACTIVE, "Active")],
                               initial=Sprint.ACTIVE)

    class Meta:
        model = Sprint
        fields = ["title", "template", "starts_at", "due_at", "status"]

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, **kwargs)
        default = ChecklistTemplate.default()
        self.fields["template"].queryset = ChecklistTemplate.objects.filter(
            Q(pk=default.pk) | Q(workspace_id=client.workspace_id)
        ).order_by(F("workspace_id").asc(nulls_first=True), "name")  # the system roadmap first
        self.fields["template"].initial = default.pk
        if not self.is_bound:
            now = timezone.now().replace(second=0, microsecond=0)
            self.initial.setdefault("starts_at", now)
            self.initial.setdefault("due_at", now + timedelta(hours=SPRINT_HOURS))

    def clean(self):
        cleaned = super().clean()
        starts_at, due_at = cleaned.get("starts_at"), cleaned.get("due_at")
        now = timezone.now()
        for name, value in (("starts_at", starts_at), ("due_at", due_at)):
            # year 9999 would overflow the 48-hour default due time (a 500); no sprint is planned years ahead
            if value and abs(value - now) > MAX_PLANNING_DISTANCE:
                self.add_error(name, "Pick a time within two years of today.")  # (drops it from cleaned)
        starts_at, due_at = cleaned.get("starts_at"), cleaned.get("due_at")
        if starts_at and not due_at and "due_at" not in self.errors:
            cleaned["due_at"] = starts_at + timedelta(hours=SPRINT_HOURS)
        elif starts_at and due_at:
            if due_at <= starts_at:
                self.add_error("due_at", "The due time must be after the start.")
            elif due_at - starts_at > MAX_SPRINT_LENGTH:
                self.add_error("due_at", "A sprint lasts at most 90 days.")
        return cleaned

    def sprint_fields(self):
        """Keyword arguments for Sprint.start."""
        data = self.cleaned_data
        return {"title": data["title"], "starts_at": data["starts_at"], "due_at": data["due_at"],
                "status": data["status"]}


class SprintItemForm(forms.ModelForm):
    evidence_link = forms.URLField(required=False, max_length=500, assume_scheme="https",
                                   validators=[URLValidator(schemes=["http", "https"])],
                                   help_text="An http(s) link: CI run, screenshot, ticket …")

    class Meta:
        model = SprintItem
        fields = SprintItem.EDITABLE_FIELDS
        widgets = {"evidence_text": forms.Textarea(attrs={"rows": 3}),
                   "override_reason": forms.Textarea(attrs={"rows": 2})}
        labels = {"override_reason": "Override reason"}
        help_texts = {"override_reason": "The scan sets this item's status. Say why yours differs, and later scans "
                                         "keep it (showing any disagreement); empty it to let the scan decide again."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.check_id:  # a manual item: no scan to override
            del self.fields["override_reason"]

    def clean(self):
        cleaned = super().clean()
        if "override_reason" not in self.fields or "status" not in self.changed_data:
            return cleaned
        status = cleaned.get("status")
        agrees_with_scan = status and SCAN_TO_ITEM_STATUS.get(self.instance.scan_status) == status
        if status and not agrees_with_scan and not cleaned.get("override_reason") \
                and "override_reason" not in self.errors:
            self.add_error("override_reason", "A scan checks this item: give a reason for changing its status.")
        return cleaned


class DecisionForm(forms.Form):
    # The decision time the form was shown with: a decision recorded by someone else since is not overwritten.
    seen = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[("", "—"), *Sprint.DECISIONS])
    rationale = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
                                help_text="Why: which blockers are fixed, which risks are accepted.")

    @staticmethod
    def seen_value(sprint) -> str:
        return sprint.decided_at.isoformat() if sprint.decided_at else ""

    def clean_seen(self):
        text = self.cleaned_data["seen"]
        if not text:
            return ""
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            value = None
        if value is None or value.tzinfo is None:  # (a hidden field: its error is shown above the form)
            self.add_error(None, "Reload the page: this form is out of date.")
            return ""
        return value


class SprintStatusForm(forms.Form):
    """Only the next step of planned → active → handed over → closed is offered (and accepted)."""

    status = forms.ChoiceField(choices=[])

    def __init__(self, *args, sprint, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Sprint.STATUSES)
        nxt = sprint.next_status
        self.fields["status"].choices = [(nxt, labels[nxt])] if nxt else []
