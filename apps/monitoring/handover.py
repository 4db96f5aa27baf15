"""What the handover pack prints about monitoring: the provider apps/reports/monitoring_seam.py looks for.

Monitors, the alert channels that are on (with their owners) and the public status page. A channel's destination
is shown as its hint (an email address, or a webhook's scheme and host): a Slack or webhook URL is a credential and
never goes into a PDF.
"""

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.urls import reverse

from .models import AlertChannel, Monitor, StatusPage


def interval_text(seconds: int) -> str:
    return f"every {seconds // 60} min" if seconds % 60 == 0 else f"every {seconds} s"


def channel_destination(channel: AlertChannel) -> str:
    try:
        return channel.target_hint
    except InvalidToken:  # encrypted with a key no longer configured: the operator must re-enter it
        return "(unreadable: enter the destination again)"


def handover_summary(client) -> dict:
    channels = list(AlertChannel.objects.filter(client=client, enabled=True))
    owners = ", ".join(dict.fromkeys(c.owner.strip() for c in channels if c.owner.strip()))
    monitors = [{"name": m.name, "url": m.url, "owner": owners,
                 "interval": interval_text(m.interval_seconds) + (" (paused)" if m.paused else "")}
                for m in Monitor.objects.filter(client=client, enabled=True)]
    page = StatusPage.objects.filter(client=client, enabled=True).first()
    return {
        "monitors": monitors,
        "channels": [{"kind": c.get_kind_display(), "target": channel_destination(c), "owner": c.owner}
                     for c in channels],
        "status_page": settings.SITE_URL + reverse("monitoring:status_page", kwargs={"token": page.token})
        if page else "",
        "setup_url": reverse("monitoring:operations", kwargs={"client_id": client.pk}),
    }
