"""The monitoring loop through the real broker and a real worker on the `monitors` queue: tick → probe batch →
confirmed incident → alert delivery, then recovery."""

import pytest
from django.utils import timezone

from apps.monitoring.models import AlertAttempt, AlertChannel, Incident, Monitor
from apps.monitoring.tasks import tick
from tests.testworld import monitor_sites
from tests.testworld.monitor_sites import Receiver
from tests.worker import WorkerProcess, wait_for


@pytest.fixture
def monitors_worker(transactional_db, world_state):
    process = WorkerProcess(queues="monitors,monitors.local", extra_env={"LAUNCHREADY_TESTWORLD_STATE": str(world_state)}).start()
    yield process
    process.stop()


@pytest.mark.worker
def test_a_tick_through_a_real_worker_alerts_once_and_recovers(ping_monitor, monitors_worker):
    with Receiver() as slack:
        channel = AlertChannel(client=ping_monitor.client, kind="slack", name="Ops", owner="Dana On-call")
        channel.target = slack.url
        channel.save()
        monitor_sites.set_mode("down")
        tick.delay()
        incident = wait_for(lambda: Incident.objects.filter(monitor=ping_monitor).first(), timeout=30,
                            message=f"an incident\n{monitors_worker.log()}")
        wait_for(lambda: len(slack.requests) == 1, timeout=30, message=f"the down alert\n{monitors_worker.log()}")
        assert "DOWN: Ping" in slack.json()[0]["text"]

        monitor_sites.set_mode("up")
        Monitor.objects.filter(pk=ping_monitor.pk).update(next_due=timezone.now())
        tick.delay()
        wait_for(lambda: Incident.objects.filter(pk=incident.pk).exclude(closed_at=None).exists(), timeout=30,
                 message=f"recovery\n{monitors_worker.log()}")
        wait_for(lambda: len(slack.requests) == 2, timeout=30, message=f"the up alert\n{monitors_worker.log()}")
        assert "UP: Ping" in slack.json()[1]["text"]
        # The worker records the attempt as sent after the receiver has answered: wait for the row, not the request.
        wait_for(lambda: AlertAttempt.objects.filter(status=AlertAttempt.SENT).count() == 2, timeout=10,
                 message=f"both attempts recorded as sent\n{monitors_worker.log()}")
