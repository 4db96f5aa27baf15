from django import template

from apps.core.links import object_url

register = template.Library()


@register.filter
def inventory_url(obj, action):
    """{{ envvar|inventory_url:"edit" }} → /clients/env-vars/<id>/edit/ (any inventory row, edit or delete)."""
    key = obj._meta.model_name
    return object_url(f"clients:{key}_{action}", **{f"{key}_id": obj.pk})


@register.filter
def unicode_domain(name):
    """Show an IDNA name (xn--…) the way people type it."""
    from apps.core.domains import to_unicode

    return to_unicode(name or "")
