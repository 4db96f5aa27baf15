"""The scan pipeline through a real Celery worker and the real broker (Redis in CI), against the test world."""

import pytest

from apps.checks import pipeline
from apps.checks.engine import run_scan
from apps.checks.models import Finding, ScanPart, ScanRun
from apps.clients.models import Client, Hostname
from tests.worker import WorkerProcess, wait_for

GOOD_HOSTS = ["www", "app", "api", "docs", "status"]


@pytest.fixture
def world_state(testworld, settings, tmp_path):
    path = tmp_path / "testworld.json"
    testworld.write_state(path)
    settings.TESTWORLD_STATE_FILE = path
    return path


@pytest.fixture
def scan_worker(transactional_db, world_state):
    process = WorkerProcess(queues="scans", extra_env={"LAUNCHREADY_TESTWORLD_STATE": str(world_state)}).start()
    yield process
    process.stop()


@pytest.fixture
def good_client(cast):
    client = Client.objects.create(workspace=cast.acme, name="Good Co", domain="good.lrtest",
                                   network_profile="testworld")
    Hostname.objects.bulk_create(Hostname(client=client, name=f"{h}.good.lrtest") for h in GOOD_HOSTS)
    return client


def _verdicts(findings):
    return sorted((getattr(f, "check_id", None) or f.check, f.target, f.status) for f in findings)


@pytest.mark.worker
def test_a_worker_scan_matches_the_engine_run_directly(cast, good_client, scan_worker, testworld):
    scan = pipeline.start_scan(client=good_client, sprint=cast.nova_sprint, requested_by=cast.alice)
    assert scan.parts_total >= len(GOOD_HOSTS) + 1
    done = wait_for(lambda: ScanRun.objects.filter(pk=scan.pk, state=ScanRun.DONE).first(), timeout=60,
                    message=f"scan to finish\n{scan_worker.log()}")
    direct = run_scan(pipeline.target_for_client(good_client), testworld.profile())
    assert _verdicts(done.findings.all()) == _verdicts(direct.findings)
    assert done.score == direct.score and done.decision == direct.decision
    assert done.parts_done == done.parts_total
    assert not ScanPart.objects.filter(scan=done, finished_at=None).exists()


@pytest.mark.django_db
def test_recording_a_part_twice_adds_nothing(cast, good_client, world_state, testworld, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        scan = pipeline.start_scan(client=good_client, requested_by=cast.alice, only=["http.hsts"])
    part = scan.parts.first()
    pipeline.run_part(part.pk)
    first = Finding.objects.filter(scan=scan).count()
    assert first >= 1
    part.refresh_from_db()
    pipeline.record_part(part, [])  # a redelivered task finds the part finished and does nothing
    pipeline.run_part(part.pk)
    assert Finding.objects.filter(scan=scan).count() == first
    scan.refresh_from_db()
    assert scan.parts_done == 1


@pytest.mark.django_db
def test_a_scan_past_its_deadline_finishes_with_errors_for_what_is_missing(cast, good_client, world_state,
                                                                           django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=False):  # no worker ever runs these parts
        scan = pipeline.start_scan(client=good_client, requested_by=cast.alice, only=["http.hsts", "tls."])
    assert pipeline.finalize_overdue(now=timezone.now() + timedelta(hours=1)) == 1
    scan.refresh_from_db()
    assert scan.state == ScanRun.DONE and scan.failure_reason == "deadline passed"
    errors = scan.findings.filter(status="error")
    assert errors.count() == scan.findings.count() > 0
    assert {f.evidence["error"] for f in errors} == {"scan_deadline"}


@pytest.mark.worker
def test_a_worker_killed_mid_scan_is_replaced_and_the_scan_completes_without_loss(
        cast, good_client, world_state, testworld, transactional_db, settings):
    # Beat's re-dispatch runs in this process; short thresholds stand in for its 15-second tick.
    settings.SCAN_PART_UNSTARTED_SECONDS = 1
    settings.SCAN_PART_STALLED_SECONDS = 2
    env = {"LAUNCHREADY_TESTWORLD_STATE": str(world_state)}
    first = WorkerProcess(queues="scans", concurrency=1, extra_env=env).start()
    try:
        scan = pipeline.start_scan(client=good_client, requested_by=cast.alice)
        wait_for(lambda: ScanRun.objects.get(pk=scan.pk).parts_done >= 2, timeout=60,
                 message=f"two parts done\n{first.log()}")
    finally:
        first.kill_all()
    at_kill = ScanRun.objects.get(pk=scan.pk)
    assert at_kill.parts_done < at_kill.parts_total, "the scan finished before the kill: nothing was tested"

    second = WorkerProcess(queues="scans", concurrency=2, extra_env=env).start()
    try:
        def finished():
            pipeline.redispatch_stalled()
            return ScanRun.objects.filter(pk=scan.pk, state=ScanRun.DONE).first()

        done = wait_for(finished, timeout=90, interval=1, message=f"scan to finish\n{second.log()}")
    finally:
        second.stop()
    direct = run_scan(pipeline.target_for_client(good_client), testworld.profile())
    assert _verdicts(done.findings.all()) == _verdicts(direct.findings)  # nothing lost, nothing twice
    assert done.parts_done == done.parts_total == ScanPart.objects.filter(scan=done).exclude(finished_at=None).count()
    assert done.failure_reason == ""
