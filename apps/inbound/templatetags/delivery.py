from django import template

from ..panel import panel_context

register = template.Library()


@register.inclusion_tag("inbound/_panel.html", takes_context=True)
def delivery_test_panel(context, sprint, return_to="sprint"):
    """The sprint's latest delivery test (or the button to create one)."""
    return {**panel_context(sprint, sprint.delivery_tests.first(), return_to), "csrf_token": context.get("csrf_token")}
