"""Regions (issue 7 item 6): each slot is probed from every region (queue monitors.<region>), every result records
its region, and a failure counts only when a second region fails the same slot."""

import json
from datetime import timedelta

import pytest
from django.db.models import Sum

from apps.monitoring import service, storage
from apps.monitoring.models import AlertAttempt, AlertChannel, Incident, Monitor, ProbeResult, Rollup
from apps.monitoring.tasks import tick
from tests.testworld import monitor_sites
from tests.testworld.monitor_sites import Receiver
from tests.worker import WorkerProcess, wait_for


def slack_channel(client, url):
    channel = AlertChannel(client=client, kind="slack", name="Ops", owner="Dana On-call")
    channel.target = url
    channel.save()
    return channel


def cut_off(profile):
    """The network of a region that cannot reach the target: the address guard refuses the loopback test world."""
    return profile.with_options(allowed_networks=())


@pytest.mark.django_db
def test_one_region_failing_alone_never_opens_an_incident(ping_monitor, clock, settings, testworld):
    settings.MONITOR_REGIONS = ["eu", "us"]
    world, broken = testworld.profile(), cut_off(testworld.profile())
    with Receiver() as slack:
        slack_channel(ping_monitor.client, slack.url)
        for _ in range(3):
            clock.now += timedelta(minutes=1)
            slots = service.claim_due(clock.now)
            service.run_slots(slots, region="us", profile=broken, now=clock.now)
            service.run_slots(slots, region="eu", profile=world, now=clock.now)
        assert set(ProbeResult.objects.values_list("region", "ok")) == {("us", False), ("eu", True)}
        assert ProbeResult.objects.count() == 6
        assert not Incident.objects.exists() and slack.requests == []
        ping_monitor.refresh_from_db()
        assert ping_monitor.state == Monitor.UP

        # The endpoint really goes down: the second region to report confirms, one incident, one alert.
        monitor_sites.set_mode("down")
        for order in (("eu", "us"), ("us", "eu")):
            clock.now += timedelta(minutes=1)
            slots = service.claim_due(clock.now)
            for region in order:
                service.run_slots(slots, region=region, profile=broken if region == "us" else world, now=clock.now)
        assert Incident.objects.count() == 1 and Incident.objects.get().closed_at is None
        ping_monitor.refresh_from_db()
        assert ping_monitor.state == Monitor.DOWN
        assert AlertAttempt.objects.filter(event="down").count() == 1

    # Uptime and the status page count what the incidents count: 5 slots (each probed from 2 regions), of which
    # the 3 that only "us" failed were up and the 2 both regions failed were down.
    storage.rollup(clock.now + timedelta(minutes=1))
    hour = Rollup.objects.filter(monitor=ping_monitor, period=Rollup.HOUR).aggregate(
        probes=Sum("probes"), failures=Sum("failures"))
    assert hour == {"probes": 5, "failures": 2}
    assert storage.uptime(ping_monitor, days=1, now=clock.now + timedelta(minutes=1)) == 60.0


@pytest.mark.django_db
def test_with_one_region_the_recheck_alone_confirms(ping_monitor, clock, settings):
    settings.MONITOR_REGIONS = ["local"]
    monitor_sites.set_mode("down")
    clock.cycle()
    assert ProbeResult.objects.get().region == "local"
    assert Incident.objects.count() == 1


@pytest.mark.django_db
def test_the_tick_sends_every_slot_to_every_region_queue(ping_monitor, settings, monkeypatch):
    settings.MONITOR_REGIONS = ["eu", "us"]
    sent = []
    monkeypatch.setattr("apps.monitoring.tasks.probe_slots.apply_async",
                        lambda args, queue: sent.append((queue, args[1], [mid for mid, _ in args[0]])))
    assert tick() == 1
    assert sorted(sent) == [("monitors.eu", "eu", [str(ping_monitor.pk)]),
                            ("monitors.us", "us", [str(ping_monitor.pk)])]


@pytest.fixture
def region_workers(transactional_db, world_state, tmp_path):
    """Two regions as two worker processes: eu reaches the test world, us is cut off from it by its network."""
    cut_state = tmp_path / "cut-off.json"
    state = json.loads(world_state.read_text())
    state["allowed_networks"] = []  # the address guard refuses loopback: this region cannot reach the target
    cut_state.write_text(json.dumps(state))
    regions = {"MONITOR_REGIONS": "eu,us"}
    eu = WorkerProcess(queues="monitors,monitors.eu",
                       extra_env={**regions, "LAUNCHREADY_TESTWORLD_STATE": str(world_state)}).start()
    us = WorkerProcess(queues="monitors.us",
                       extra_env={**regions, "LAUNCHREADY_TESTWORLD_STATE": str(cut_state)}).start()
    yield eu, us
    eu.stop()
    us.stop()


@pytest.mark.worker
def test_two_region_workers_alert_only_on_a_two_region_fault(ping_monitor, region_workers, settings):
    from django.utils import timezone

    settings.MONITOR_REGIONS = ["eu", "us"]
    eu, us = region_workers
    logs = lambda: f"\neu:\n{eu.log()}\nus:\n{us.log()}"  # noqa: E731
    with Receiver() as slack:
        slack_channel(ping_monitor.client, slack.url)

        tick()  # the us region cannot reach the endpoint; eu can: a one-region fault
        wait_for(lambda: ProbeResult.objects.count() == 2, timeout=30, message=f"both regions' results{logs()}")
        assert set(ProbeResult.objects.values_list("region", "ok")) == {("eu", True), ("us", False)}
        assert not Incident.objects.exists() and slack.requests == []

        monitor_sites.set_mode("down")  # now it is down for everyone
        Monitor.objects.filter(pk=ping_monitor.pk).update(next_due=timezone.now())
        tick()
        wait_for(lambda: ProbeResult.objects.count() == 4, timeout=30, message=f"the second slot{logs()}")
        incident = wait_for(lambda: Incident.objects.filter(monitor=ping_monitor).first(), timeout=30,
                            message=f"an incident{logs()}")
        wait_for(lambda: len(slack.requests) == 1, timeout=30, message=f"the down alert{logs()}")
        assert "DOWN: Ping" in slack.json()[0]["text"]
        assert incident.closed_at is None and Incident.objects.count() == 1
        assert AlertAttempt.objects.filter(event="down").count() == 1
