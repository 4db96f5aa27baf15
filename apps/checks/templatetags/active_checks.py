"""The sprint page's active-checks panel (consultants): ownership status, the "Run active checks" button and the
sprint's AI canaries with where to plant them. An inclusion tag, so the sprints app only includes one line."""

from django import template
from django.conf import settings

from apps.checks.models import SprintCanaries

register = template.Library()


@register.inclusion_tag("checks/_active_panel.html", takes_context=True)
def active_checks_panel(context, sprint):
    client = sprint.client
    canaries = SprintCanaries.for_sprint(sprint)
    return {
        "csrf_token": context.get("csrf_token"),
        "sprint": sprint, "client": client, "verified": client.ownership_verified,
        "canaries": canaries, "planting": canaries.instructions(),
        "rate": settings.ACTIVE_SCAN_RATE, "duration": settings.ACTIVE_SCAN_DURATION,
        "has_chat": client.endpoints.filter(kind="chat").exists(),
    }
