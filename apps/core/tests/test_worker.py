import uuid

import pytest
from django.conf import settings

from apps.core.models import WorkerHeartbeat
from apps.core.tasks import heartbeat
from tests.worker import WorkerProcess, wait_for


@pytest.fixture
def worker(transactional_db):
    process = WorkerProcess(queues="default").start()
    yield process
    process.stop()


@pytest.mark.worker
def test_a_real_worker_consumes_a_task_through_the_configured_broker(worker):
    # Not eager: the task is published to the broker and a separate process writes the row.
    assert not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False)
    heartbeat.delay(uuid.uuid4().hex)
    beat = wait_for(lambda: WorkerHeartbeat.objects.filter(hostname__startswith=worker.node).first(),
                    message=f"heartbeat from {worker.node}\n{worker.log()}")
    assert beat.beats == 1
    assert beat.queue == "default"
    expected = "redis" if settings.REDIS_URL else "filesystem"
    assert settings.CELERY_BROKER_URL.startswith(expected)


def test_the_scan_sweeps_are_not_queued_behind_the_scans_they_supervise():
    from launchready.celery import app

    def queue(task):
        route = app.amqp.router.route({}, task)
        return route["queue"].name

    for sweep in ("finalize_overdue_scans", "redispatch_stalled_parts", "start_due_rescans"):
        assert queue(f"apps.checks.tasks.{sweep}") == "default", sweep
    assert queue("apps.checks.tasks.run_scan_parts") == "scans"
    assert queue("apps.monitoring.tasks.tick") == "monitors"
    procfile = open("Procfile").read()
    # every queue the code publishes to has a worker; monitors never share one with scans
    worker_lines = [line for line in procfile.splitlines() if " worker " in line]
    assert any("-Q default,scans,reports " in line for line in worker_lines)
    assert any("-Q monitors " in line for line in worker_lines)
    assert not any("scans" in line and "monitors" in line for line in worker_lines)
