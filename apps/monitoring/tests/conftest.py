from datetime import timedelta

import pytest
from django.utils import timezone

from tests.testworld import monitor_sites


@pytest.fixture
def world_state(testworld, settings, tmp_path):
    path = tmp_path / "testworld.json"
    testworld.write_state(path)
    settings.TESTWORLD_STATE_FILE = path
    return path


@pytest.fixture
def uptime_client(cast, world_state):
    """Client orbit of the cast, moved onto the test world's switchable uptime endpoint."""
    cast.orbit.domain = monitor_sites.UPTIME_HOST
    cast.orbit.network_profile = "testworld"
    cast.orbit.save()
    monitor_sites.set_mode("up")
    yield cast.orbit
    monitor_sites.set_mode("up")


@pytest.fixture
def ping_monitor(uptime_client):
    from apps.monitoring.models import Monitor

    return Monitor.objects.create(client=uptime_client, name="Ping", url=f"https://{monitor_sites.UPTIME_HOST}/ping",
                                  json_field="ok", timeout_seconds=3, next_due=timezone.now() - timedelta(seconds=1))


class Clock:
    """Simulated minutes: each cycle() is one beat tick a minute later, probing and delivering what is due."""

    def __init__(self):
        self.now = timezone.now()

    def cycle(self, minutes=1):
        from apps.monitoring import alerts, service

        self.now += timedelta(minutes=minutes)
        slots = service.claim_due(self.now)
        service.run_slots(slots, now=self.now)
        for attempt_id in alerts.due_attempt_ids(self.now):
            alerts.deliver(attempt_id, now=self.now)
        return slots


@pytest.fixture
def clock():
    return Clock()
