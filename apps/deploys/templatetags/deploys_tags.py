from django import template
from django.conf import settings
from django.urls import reverse

from apps.core.links import object_url
from apps.deploys.gate import MAX_WAIT_S

register = template.Library()


@register.inclusion_tag("deploys/_client_panel.html", takes_context=True)
def deploy_panel(context, client, is_consultant):
    """The client page's deploy section: tokens (create, list, revoke), recent deploys and CI snippets."""
    if not is_consultant:
        return {"show": False}
    return {
        "show": True,
        "client": client,
        "csrf_token": context.get("csrf_token"),
        "tokens": client.deploy_tokens.select_related("created_by"),
        "deploys": client.deploys.select_related("scan")[:10],
        "deploys_url": settings.SITE_URL + reverse("deploys_api:deploys"),
        "readiness_url": settings.SITE_URL + object_url("deploys_api:readiness", client_id=client.pk),
        "docs_url": reverse("api:docs"),
        "max_wait": MAX_WAIT_S,
    }
