"""The markup repeated per row on the dashboard, sprint page and portal, written in Python.

A sprint page lists 43 items, a dashboard 25 sprints with 7 stage bars each: through the template engine these
rows cost 10–15 ms of CPU per page (every {{ }} and {% if %} is a node to resolve, an {% include %} per row, a
{% url %} per row). The same markup from f-strings costs a tenth of that (docs/performance.md). The HTML is
byte for byte what the templates produced (apps/sprints/tests/test_sprint_rows.py compares them); every value is
escaped as templates escape it.

    {% countdown sprint %}                 the sprint's time left (sprints/countdown.js keeps it ticking)
    {% stage_bars sprint.stage_progress %} one <progress> per stage (dashboard)
    {% latest_score sprint %}              the latest scan's score, blockers and age (dashboard)
    {% dashboard_row sprint %}             a running sprint's whole row on the dashboard (uses the three above)
    {% item_rows stage.items can_edit %}   the checklist items (sprint page, portal, the htmx row swap)
    {% activity_rows activity %}           the sprint's activity log (sprint page, the htmx row swap)
    {% decision_fields sprint %}           the go/no-go panel's form fields (sprint page)
    {% stage_progress sprint stage oob %}  one stage's progress bar (sprint page, the htmx row swap)
"""

import html

from django import template
from django.template.defaultfilters import linebreaksbr, pluralize, truncatechars
from django.template.defaultfilters import timesince_filter as timesince
from django.utils.dates import MONTHS_3
from django.utils.safestring import mark_safe
from django.utils.timezone import get_current_timezone, template_localtime

from apps.checklists.models import SprintItem
from apps.core.links import object_url
from apps.sprints.models import Sprint

register = template.Library()

STATUS_ICONS = {"pass": "✓", "warn": "!", "fail": "✗", "na": "–"}
# get_FOO_display() goes through the field's flattened choices on every call
ITEM_STATUS_LABELS = dict(SprintItem.STATUSES)
SPRINT_STATUS_LABELS, DECISION_LABELS = dict(Sprint.STATUSES), dict(Sprint.DECISIONS)
MANUAL = '<small class="muted">manual</small>'


def escape(value):
    """django.utils.html.escape() without its lazy-string wrapper (the values here are model fields: str)."""
    return html.escape(str(value))


def short_time(value, tz=None):
    """The date filter's "M j, H:i" of an aware datetime in the current time zone (or `tz`), at a tenth of the
    filter's cost (57 µs a call on a slow machine: it builds a formatter and looks up the zone every time)."""
    local = value.astimezone(tz or get_current_timezone())
    return f"{MONTHS_3[local.month].title()} {local.day}, {local:%H:%M}"


def short_link(link):
    """truncatechars:80, which an ASCII link of 80 characters or fewer passes unchanged (the usual case)."""
    return link if len(link) <= 80 and link.isascii() else truncatechars(link, 80)


@register.simple_tag
def countdown(sprint):
    overdue = " overdue" if sprint.is_overdue else ""
    if sprint.is_running:  # the date filter's "c" is isoformat() of the local time
        due = template_localtime(sprint.due_at).isoformat()
        return mark_safe(f'<span class="countdown{overdue}" data-due="{escape(due)}">{escape(sprint.countdown)}</span>')
    return mark_safe(f'<span class="countdown{overdue}">{escape(sprint.countdown)}</span>')


@register.simple_tag
def stage_bars(stages):
    bars = []
    for s in stages:
        number = int(s.number)  # an int: nothing to escape
        label, percent = f"{number}. {escape(s.name)}", s.percent
        bars.append(f'<progress value="{s.done}" max="{s.total or 1}" title="{label}: {percent}%" '
                    f'aria-label="Stage {number}: {percent}%"></progress>')
    return mark_safe("".join(bars))  # numbers, and text through escape()


@register.simple_tag
def latest_score(sprint):
    """The dashboard's score cell: the client's latest finished scan (with_latest_scan()), and how long ago."""
    if sprint.latest_score is None:
        return mark_safe('<span class="muted">not scanned</span>')
    blockers = ""
    if sprint.latest_blockers:
        blockers = (f'<br><span class="badge badge-blocker">{escape(sprint.latest_blockers)} '
                    f'blocker{pluralize(sprint.latest_blockers)}</span>')
    return mark_safe(f"<strong>{escape(sprint.latest_score)}</strong> ({escape(sprint.latest_grade)}){blockers}"
                     f'<br><small class="muted">scanned {escape(timesince(sprint.latest_scan_at))} ago</small>')


@register.simple_tag
def dashboard_row(sprint):
    """One running sprint on the dashboard (with_latest_scan() and attach_stage_progress() data, `.client` set)."""
    client = sprint.client
    decision_label = DECISION_LABELS.get(sprint.decision, sprint.decision)
    decision = (f'<span class="badge badge-{escape(sprint.decision)}">{escape(decision_label)}</span>'
                if sprint.decision else '<span class="muted">pending</span>')
    status_label = SPRINT_STATUS_LABELS.get(sprint.status, sprint.status)
    client_url = escape(object_url("clients:detail", client_id=sprint.client_id))
    sprint_url = escape(object_url("sprints:detail", sprint_id=sprint.pk))
    return mark_safe(  # every value went through escape() or is one of the tags above
        "\n    <tr>\n"
        f'      <td><strong><a href="{client_url}">{escape(client.name)}</a></strong><br>'
        f'<small class="muted">{escape(client.domain_unicode)}</small></td>\n'
        f'      <td><a href="{sprint_url}">{escape(sprint.title)}</a><br>'
        f'<span class="badge badge-{escape(sprint.status)}">{escape(status_label)}</span></td>\n'
        f'      <td><div class="progress-row"><progress value="{sprint.items_done}" max="{sprint.items_total or 1}" '
        f'aria-label="Progress"></progress> <span>{sprint.progress_percent}%</span></div></td>\n'
        f'      <td><div class="stage-bars">{stage_bars(sprint.stage_progress)}</div></td>\n'
        f"      <td>{countdown(sprint)}</td>\n"
        f"      <td>{decision}</td>\n"
        f'      <td class="score">{latest_score(sprint)}</td>\n'
        "    </tr>\n  ")


@register.simple_tag
def item_rows(items, can_edit=False):
    return mark_safe("".join(item_row(item, can_edit) for item in items))  # each row escaped its values


@register.simple_tag
def item_row(item, can_edit=False):
    """One item (sprints/_item.html, which the htmx row swap renders, is this tag): f-strings with every value
    through escape(), a fraction of what format_html() costs, for 43 rows a page."""
    status, pk = escape(item.status), item.pk
    check = f'<code class="check-id">{escape(item.check_id)}</code>' if item.check_id else MANUAL
    edit = ""
    if can_edit:
        url = escape(object_url("sprints:item_edit", sprintitem_id=pk))
        edit = f'<a class="edit-link" href="{url}" hx-get="{url}" hx-target="#item-{pk}" hx-swap="outerHTML">Edit</a>'
    scan = ""
    if item.scan_status:
        disagrees = item.disagrees_with_scan
        scan = (f'<small class="scan-says{" disagree" if disagrees else ""}">Latest scan: <span class="badge '
                f'badge-{escape(item.scan_status)}">{escape(item.scan_status)}</span> {escape(item.scan_summary)}'
                f'{" — overridden: " + escape(item.override_reason) if disagrees else ""}</small>')
    elif item.override_reason:
        scan = f'<small class="muted">Override: {escape(item.override_reason)}</small>'
    guidance = f'<small class="muted guidance">{escape(item.guidance)}</small>' if item.guidance else ""
    evidence = ""
    if item.evidence_text or item.evidence_link:
        text = linebreaksbr(item.evidence_text, autoescape=True) if item.evidence_text else ""
        link = (f'<a href="{escape(item.evidence_link)}" rel="noopener noreferrer nofollow" target="_blank">'
                f'{escape(short_link(item.evidence_link))}</a>') if item.evidence_link else ""
        evidence = f'\n    <div class="evidence">{text}\n      {link}</div>\n  '
    meta = f"Owner: {escape(item.owner)}" if item.owner else "No owner yet"
    if item.updated_at:
        who = (item.updated_by.display_name if item.updated_by else "") or "someone"
        meta += (f" · updated by {escape(who)}, "
                 f"{escape(short_time(item.updated_at))} UTC")
    return mark_safe(  # every value above went through escape()
        f'<div class="sprint-item status-{status}" id="item-{pk}">\n'
        f'  <div class="item-head">\n'
        f'    <span class="badge badge-{status}"><span aria-hidden="true">{STATUS_ICONS.get(item.status, "○")}</span>'
        f' {escape(ITEM_STATUS_LABELS.get(item.status, item.status))}</span>\n'
        f'    <strong class="item-title">{escape(item.title)}</strong>\n'
        f'    <span class="sev sev-{escape(item.severity)}" title="severity">{escape(item.severity)}</span>\n'
        f"    {check}\n"
        f"    {edit}\n"
        f"  </div>\n"
        f"  {scan}\n"
        f"  {guidance}\n"
        f"  {evidence}\n"
        f'  <small class="muted item-meta">{meta}</small>\n'
        f"</div>\n")


@register.simple_tag
def activity_rows(entries):
    """The activity log's entries (up to 50 a page), as sprints/_activity.html's loop rendered them."""
    tz = get_current_timezone()
    rows = []
    for entry in entries:
        actor = (entry.actor.display_name if entry.actor else "") or "System"
        when = entry.created_at.astimezone(tz)
        rows.append(f"\n    <li><strong>{escape(actor)}</strong> {escape(entry.text)} <small class=\"muted\">"
                    f'<time datetime="{escape(when.isoformat())}">{escape(short_time(when, tz))} UTC</time>'
                    f"</small></li>\n  ")
    return mark_safe("".join(rows))  # every value went through escape()


@register.simple_tag
def decision_fields(sprint):
    """The sprint page's unbound DecisionForm as partials/form.html renders it (the form page with errors still
    uses that template), without Django's widget templates: about 20 template renders, 2–4 ms a page."""
    from apps.sprints.forms import DecisionForm

    decision, rationale = DecisionForm.base_fields["decision"], DecisionForm.base_fields["rationale"]
    options = "".join(f'  <option value="{escape(value)}"{" selected" if value == sprint.decision else ""}>'
                      f"{escape(label)}</option>\n\n" for value, label in decision.choices)
    rows = rationale.widget.attrs["rows"]
    seen = f' value="{escape(sprint.decided_at.isoformat())}"' if sprint.decided_at else ""
    return mark_safe(  # every value went through escape()
        f'\n\n<input type="hidden" name="seen"{seen} id="id_seen">\n\n'
        '  <label for="id_decision">Decision <span aria-hidden="true">*</span>\n'
        f'    <select name="decision" required id="id_decision">\n{options}</select>\n    \n  </label>\n\n'
        '  <label for="id_rationale">Rationale <span aria-hidden="true">*</span>\n'
        f'    <textarea name="rationale" cols="40" rows="{rows}" maxlength="{rationale.max_length}" required '
        'aria-describedby="id_rationale_helptext" id="id_rationale">\n'
        f"{escape(sprint.decision_rationale)}</textarea>\n"
        f"    <small>{escape(rationale.help_text)}</small>\n  </label>\n\n"
        '<button type="submit">Record the decision</button>\n')


@register.simple_tag
def stage_progress(sprint, stage, oob=False):
    """One stage's progress bar on the sprint page; with `oob`, for htmx to swap in out of band."""
    swap = ' hx-swap-oob="true"' if oob else ""
    return mark_safe(  # numbers, and the sprint's UUID
        f'<div id="progress-{sprint.pk}-stage-{stage.number}" class="progress-row"{swap}>\n'
        f'  <progress value="{stage.done}" max="{stage.total or 1}" aria-label="Stage {stage.number} progress">'
        f"</progress>\n"
        f'  <span>{stage.percent}%</span> <small class="muted">{stage.done}/{stage.total}</small>\n'
        f"</div>\n")
