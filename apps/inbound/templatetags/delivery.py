from django import template

from ..panel import panel_context

register = template.Library()


@register.inclusion_tag("inbound/_panel.html", takes_context=True)
def delivery_test_panel(context, sprint, return_to="sprint"):
    """The sprint's latest delivery test (or the button to create one). Slicing `.all()` reads the portal's
    prefetched tests without a query per client, and is a LIMIT 1 query elsewhere."""
    test = next(iter(sprint.delivery_tests.all()[:1]), None)
    if test is not None:
        test.sprint = sprint  # the verdict needs sprint.client, which the caller already has
    return {**panel_context(sprint, test, return_to), "csrf_token": context.get("csrf_token")}
