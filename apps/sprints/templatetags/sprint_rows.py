"""The markup repeated per row on the dashboard, sprint page and portal, written in Python.

A sprint page lists 43 items, a dashboard 25 sprints with 7 stage bars each: through the template engine these
rows cost 10–15 ms of CPU per page (every {{ }} and {% if %} is a node to resolve, an {% include %} per row, a
{% url %} per row). The same markup from format_html() costs a tenth of that (docs/performance.md). The HTML is
byte for byte what the templates produced; escaping is format_html()'s (conditional_escape, as in templates).

    {% countdown sprint %}                 the sprint's time left (sprints/countdown.js keeps it ticking)
    {% stage_bars sprint.stage_progress %} one <progress> per stage (dashboard)
    {% item_rows stage.items can_edit %}   the checklist items (sprint page, portal, the htmx row swap)
"""

from django import template
from django.template.defaultfilters import date, linebreaksbr, truncatechars
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime

from apps.core.links import object_url

register = template.Library()

STATUS_ICONS = {"pass": "✓", "warn": "!", "fail": "✗", "na": "–"}


@register.simple_tag
def countdown(sprint):
    overdue = " overdue" if sprint.is_overdue else ""
    if sprint.is_running:
        return format_html('<span class="countdown{}" data-due="{}">{}</span>', overdue,
                           date(template_localtime(sprint.due_at), "c"), sprint.countdown)
    return format_html('<span class="countdown{}">{}</span>', overdue, sprint.countdown)


@register.simple_tag
def stage_bars(stages):
    return format_html_join("", '<progress value="{}" max="{}" title="{}. {}: {}%" aria-label="Stage {}: {}%">'
                                "</progress>",
                            ((s.done, s.total or 1, s.number, s.name, p, s.number, p)
                             for s in stages for p in (s.percent,)))


@register.simple_tag
def item_rows(items, can_edit=False):
    return mark_safe("".join(item_row(item, can_edit) for item in items))  # format_html() parts only


@register.simple_tag
def item_row(item, can_edit=False):
    """One item (sprints/_item.html, which the htmx row swap renders, is this tag)."""
    parts = [format_html(
        '<div class="sprint-item status-{status}" id="item-{pk}">\n'
        '  <div class="item-head">\n'
        '    <span class="badge badge-{status}"><span aria-hidden="true">{icon}</span> {status_display}</span>\n'
        '    <strong class="item-title">{title}</strong>\n'
        '    <span class="sev sev-{severity}" title="severity">{severity}</span>\n'
        "    {check}\n"
        "    {edit}\n"
        "  </div>\n",
        status=item.status, pk=item.pk, icon=STATUS_ICONS.get(item.status, "○"),
        status_display=item.get_status_display(), title=item.title, severity=item.severity,
        check=format_html('<code class="check-id">{}</code>', item.check_id) if item.check_id
        else mark_safe('<small class="muted">manual</small>'),
        edit=_edit_link(item) if can_edit else "",
    )]
    if item.scan_status:
        disagrees = item.disagrees_with_scan
        parts.append(format_html(
            '  <small class="scan-says{}">Latest scan: <span class="badge badge-{}">{}</span> {}{}</small>\n',
            " disagree" if disagrees else "", item.scan_status, item.scan_status, item.scan_summary,
            format_html(" — overridden: {}", item.override_reason) if disagrees else ""))
    elif item.override_reason:
        parts.append(format_html('  <small class="muted">Override: {}</small>\n', item.override_reason))
    else:
        parts.append("  \n")
    if item.guidance:
        parts.append(format_html('  <small class="muted guidance">{}</small>\n', item.guidance))
    else:
        parts.append("  \n")
    if item.evidence_text or item.evidence_link:
        parts.append(format_html(
            '  \n    <div class="evidence">{}\n      {}</div>\n  \n',
            linebreaksbr(item.evidence_text, autoescape=True) if item.evidence_text else "",
            format_html('<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>',
                        item.evidence_link, truncatechars(item.evidence_link, 80)) if item.evidence_link else ""))
    else:
        parts.append("  \n")
    updated = ""
    if item.updated_at:
        updated = format_html(" · updated by {}, {} UTC",
                              (item.updated_by.display_name if item.updated_by else "") or "someone",
                              date(template_localtime(item.updated_at), "M j, H:i"))
    parts.append(format_html('  <small class="muted item-meta">{}{}</small>\n</div>\n',
                             format_html("Owner: {}", item.owner) if item.owner else "No owner yet", updated))
    return mark_safe("".join(parts))  # format_html() parts and constant whitespace only


def _edit_link(item):
    url = object_url("sprints:item_edit", sprintitem_id=item.pk)
    return format_html('<a class="edit-link" href="{}" hx-get="{}" hx-target="#item-{}" hx-swap="outerHTML">Edit</a>',
                       url, url, item.pk)
