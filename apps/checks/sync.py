"""Findings update their linked checklist items; a consultant's override is kept and the disagreement shown."""

import re

from django.db import transaction
from django.utils import timezone

from apps.checklists.models import SCAN_TO_ITEM_STATUS, SprintItem

# Worst first: the item shows the worst verdict its check got on any target.
STATUS_ORDER = ["fail", "error", "warn", "pass", "skipped"]


def worst_by_check(findings) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for f in findings:
        grouped.setdefault(f.check_id, []).append(f)
    for items in grouped.values():
        items.sort(key=lambda f: STATUS_ORDER.index(f.status))
    return grouped


SCAN_LINE = re.compile(r"Scan \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC: ")
EARLIER_NOTES = "\n\nEarlier notes: "


def scan_evidence(line: str, old: str) -> str:
    """The scan's line, keeping what a person wrote below it (once: a later scan's line replaces the earlier scan
    line only). Before, a scan that changed an item's status replaced hand-written evidence without a trace."""
    notes = (old or "").strip()
    if SCAN_LINE.match(notes):  # an earlier scan's line: drop that line, keep whatever a person wrote below it
        notes = notes.partition("\n")[2].strip().removeprefix(EARLIER_NOTES.strip()).strip()
    return (line + (EARLIER_NOTES + notes if notes else ""))[:5000]


@transaction.atomic
def apply_scan_to_checklist(scan, checks=None) -> int:
    """Update the scan's sprint items (only those of `checks` when given); returns how many items changed status."""
    if scan.sprint_id is None:
        return 0
    grouped = worst_by_check(scan.findings.all())
    changed = 0
    now = timezone.now()
    items = SprintItem.objects.select_for_update().filter(sprint_id=scan.sprint_id).exclude(check_id="")
    if checks is not None:
        items = items.filter(check_id__in=checks)
    for item in items:
        findings = grouped.get(item.check_id)
        if not findings:
            continue
        worst = findings[0]
        bad = [f for f in findings if f.status in ("fail", "warn", "error")]
        summary = worst.summary if not bad else f"{worst.summary} ({len(bad)} of {len(findings)} targets)"
        item.scan_status, item.scan_summary, item.scan = worst.status, summary[:500], scan
        fields = ["scan_status", "scan_summary", "scan"]
        new_status = SCAN_TO_ITEM_STATUS.get(worst.status)
        if new_status and not item.override_reason and new_status != item.status:
            item.status = new_status
            item.evidence_text = scan_evidence(f"Scan {scan.finished_at:%Y-%m-%d %H:%M} UTC: {summary}",
                                               item.evidence_text)
            item.updated_at = now
            item.updated_by = None
            fields += ["status", "evidence_text", "updated_at", "updated_by"]
            changed += 1
        item.save(update_fields=fields)
    if changed:
        scan.sprint.log(scan.requested_by, f"scan finished: score {scan.score} ({scan.grade}), "
                                           f"{changed} checklist items updated")
    return changed
