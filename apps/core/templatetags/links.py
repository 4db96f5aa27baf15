"""{% object_url 'sprints:detail' sprint_id=sprint.pk %}: {% url %} for one object's page, cheap in a loop."""

from django import template

from apps.core.links import object_url as _object_url

register = template.Library()


@register.simple_tag
def object_url(name, **kwargs):
    return _object_url(name, **kwargs)
