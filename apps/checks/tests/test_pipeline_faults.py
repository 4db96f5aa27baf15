"""Faults in the pipeline: the broker restarted mid-scan, a check that crashes."""

import os
import subprocess
import time

import pytest
from django.conf import settings as django_settings

from apps.checks import pipeline
from apps.checks.engine import registry
from apps.checks.models import ScanRun
from apps.clients.models import Client, Hostname
from tests.worker import WorkerProcess, wait_for

from .test_pipeline import GOOD_HOSTS

# The start command from /work/shared/SERVICES.md: the machine's Redis keeps nothing on disk.
REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
               "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]


@pytest.fixture
def good_client(cast):
    client = Client.objects.create(workspace=cast.acme, name="Good Co", domain="good.lrtest",
                                   network_profile="testworld")
    Hostname.objects.bulk_create(Hostname(client=client, name=f"{h}.good.lrtest") for h in GOOD_HOSTS)
    return client


@pytest.fixture
def world_state(testworld, settings, tmp_path):
    path = tmp_path / "testworld.json"
    testworld.write_state(path)
    settings.TESTWORLD_STATE_FILE = path
    return path


def redis_answers() -> bool:
    result = subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True, text=True, timeout=5)
    return result.stdout.strip() == "PONG"


def restart_redis():
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], capture_output=True, timeout=10)
    wait_for(lambda: not redis_answers(), timeout=10, message="Redis to stop")
    subprocess.run(REDIS_START, check=True, capture_output=True, timeout=10)
    wait_for(redis_answers, timeout=10, message="Redis to start again")


@pytest.mark.worker
@pytest.mark.skipif(not os.environ.get("REDIS_URL") or not django_settings.REDIS_URL,
                    reason="needs the real Redis broker: set REDIS_URL (e.g. redis://127.0.0.1:6379/7)")
def test_redis_restarted_mid_scan_the_scan_completes_or_fails_with_a_reason(
        cast, good_client, world_state, testworld, transactional_db, settings):
    # Beat's re-dispatch and deadline finalizer run in this process; short thresholds stand in for its ticks.
    settings.SCAN_PART_UNSTARTED_SECONDS = 1
    settings.SCAN_PART_STALLED_SECONDS = 3
    # One connection per slot, so the scan is published as one task per family group (seven), not two halves: the
    # restart lands while tasks are still queued and unfinished.
    settings.SCAN_PART_CONNECTIONS, settings.SCAN_TASKS_PER_SCAN = 1, 8
    worker = WorkerProcess(queues="scans", concurrency=1,
                           extra_env={"LAUNCHREADY_TESTWORLD_STATE": str(world_state), "SCAN_PART_CONNECTIONS": "1",
                                      "SCAN_TASKS_PER_SCAN": "8"}).start()
    try:
        scan = pipeline.start_scan(client=good_client, requested_by=cast.alice)
        wait_for(lambda: ScanRun.objects.get(pk=scan.pk).parts_done >= 2, timeout=60,
                 message=f"two parts done\n{worker.log()}")
        restart_redis()
        at_restart = ScanRun.objects.get(pk=scan.pk)
        assert at_restart.parts_done < at_restart.parts_total, "the scan finished before the restart: nothing tested"
        started = time.monotonic()

        def settled():
            try:
                pipeline.redispatch_stalled()
            except Exception:  # noqa: BLE001 - the broker may still be coming back; the next tick retries
                pass
            pipeline.finalize_overdue()
            return ScanRun.objects.filter(pk=scan.pk, state__in=[ScanRun.DONE, ScanRun.FAILED]).first()

        done = wait_for(settled, timeout=120, interval=1, message=f"the scan to settle\n{worker.log()}")
    finally:
        worker.stop()
        assert redis_answers(), "Redis must be left running"
    assert time.monotonic() - started < 120
    if done.state == ScanRun.DONE and not done.failure_reason:
        assert done.parts_done == done.parts_total
        assert not done.findings.filter(evidence__error="scan_deadline").exists()
    else:  # failing is allowed, silently or vaguely is not
        assert done.failure_reason


@pytest.mark.django_db
def test_a_check_that_raises_becomes_an_error_finding_and_the_scan_goes_on(cast, good_client, world_state,
                                                                           monkeypatch):
    async def crash(target, net, host):
        raise RuntimeError("a bug in the check")

    registry.load_families()
    spec = registry.REGISTRY["http.hsts"]
    monkeypatch.setitem(registry.REGISTRY, "http.hsts", registry.CheckSpec(spec.id, spec.family, spec.scope, crash))
    scan = pipeline.run_scan_inline(client=good_client, sprint=cast.nova_sprint, requested_by=cast.alice,
                                    only=["http."])
    assert scan.state == ScanRun.DONE and scan.parts_done == scan.parts_total
    crashed = scan.findings.filter(check_id="http.hsts")
    assert crashed.count() == len(GOOD_HOSTS) + 1
    assert {f.status for f in crashed} == {"error"}
    assert {f.evidence["error"] for f in crashed} == {"internal"}
    assert "RuntimeError: a bug in the check" in crashed.first().evidence["exception"]
    others = scan.findings.exclude(check_id="http.hsts")
    assert others.exists() and others.filter(status="pass").exists()  # the other checks of the part still ran
    assert scan.score is not None
