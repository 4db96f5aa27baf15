"""obs.monitors and obs.health from monitoring's data, against the test world."""

import pytest
from django.utils import timezone

from apps.monitoring.findings import obs_health, obs_monitors
from apps.monitoring.models import AlertChannel, Monitor

pytestmark = pytest.mark.django_db


def test_obs_monitors_passes_only_with_all_four_kinds_each_minute_and_a_verified_owned_channel(uptime_client):
    client = uptime_client
    base = f"https://{client.domain}"
    endpoints = {kind: client.endpoints.create(kind=kind, url=f"{base}/{kind}") for kind in ("login", "health", "chat")}
    Monitor.objects.create(client=client, name="Home", url=f"{base}/")
    Monitor.objects.create(client=client, name="Login", url=f"{base}/login")  # matched by URL
    Monitor.objects.create(client=client, name="Health", url=f"{base}/health", endpoint=endpoints["health"])
    finding = obs_monitors(client)
    assert finding.status == "fail" and finding.evidence["missing"] == ["chat"]
    assert "no owned alert channel" in finding.summary

    chat = Monitor.objects.create(client=client, name="Chat", url=f"{base}/chat", interval_seconds=300)
    channel = AlertChannel(client=client, kind="email", name="Mail", owner="Dana")
    channel.target = "dana@uptime.lrtest"
    channel.save()
    finding = obs_monitors(client)
    assert finding.status == "fail" and finding.evidence["interval_over_60s"] == ["chat"]

    chat.interval_seconds = 60
    chat.save()
    AlertChannel.objects.filter(pk=channel.pk).update(verified_at=timezone.now())
    finding = obs_monitors(client)
    assert finding.status == "pass" and finding.severity == "high"
    assert finding.evidence["verified_channels"] == ["Mail (owner Dana)"]


def test_obs_health_reads_the_health_endpoint(uptime_client):
    assert obs_health(uptime_client).status == "fail"  # none declared
    endpoint = uptime_client.endpoints.create(kind="health", url=f"https://{uptime_client.domain}/ping")
    finding = obs_health(uptime_client)
    assert finding.status == "pass" and finding.evidence["machine_readable"]
    endpoint.url = f"https://{uptime_client.domain}/"  # an HTML page is not machine-readable
    endpoint.save()
    assert obs_health(uptime_client).status == "warn"
    endpoint.url = f"https://{uptime_client.domain}/missing"
    endpoint.save()
    assert obs_health(uptime_client).status == "fail"
