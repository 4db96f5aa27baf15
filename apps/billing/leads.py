"""A self-serve order becomes a consultant's client and sprint in one step (once)."""

from django.conf import settings
from django.db import transaction

from apps.clients.models import Client
from apps.sprints.models import Sprint

from .models import ScoreOrder


def convert(order: ScoreOrder, *, by):
    """(client, sprint, created). A second call returns the client made the first time (created=False)."""
    with transaction.atomic():
        locked = ScoreOrder.objects.select_for_update().get(pk=order.pk)
        if locked.converted_client_id:
            client = locked.converted_client
            return client, client.sprints.order_by("-created_at").first(), False
        client = Client.objects.create(
            workspace=order.workspace, name=order.domain_unicode[:120], domain=order.domain, created_by=by,
            network_profile=settings.SELF_SERVE_PROFILE,
            notes=f"Lead from the self-serve page: {order.email}, ordered {order.created_at:%Y-%m-%d}.")
        sprint = Sprint.start(client=client, created_by=by)
        sprint.log(by, f"converted the self-serve order of {order.email} for {order.domain}")
        ScoreOrder.objects.filter(pk=order.pk).update(converted_client=client)
        order.converted_client = client
    return client, sprint, True
