"""The scan pipeline through a real Celery worker and the real broker (Redis in CI), against the test world."""

import time

import pytest

from apps.checks import pipeline
from apps.checks.engine import run_scan, scoring
from apps.checks.models import Finding, ScanPart, ScanRun
from apps.checks.profiles import get_profile
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


def worker_profile():
    """The profile the worker scans with (the state file's, production timeouts): the direct runs compared with
    it must use the same, or the tests' tight timeouts (0.5 s for DNS) turn a stall of the host into a difference."""
    return get_profile("testworld")


def _verdicts(findings):
    # obs.* are contributed at finalize from monitoring's data (scan_findings_wanted), not by the engine's families
    rows = ((getattr(f, "check_id", None) or f.check, f.target, f.status) for f in findings)
    return sorted(r for r in rows if not r[0].startswith("obs."))


def _differences(done, direct):
    """What each side said where the verdicts differ (a flaky network check shows its reason here)."""
    worker = {(f.check_id, f.target): (f.status, f.summary) for f in done.findings.all()}
    engine = {(f.check, f.target): (f.status, f.summary) for f in direct.findings}
    return "\n".join(f"{key}: worker {worker.get(key)} / direct {engine.get(key)}"
                     for key in sorted(set(worker) | set(engine)) if worker.get(key, ("",))[0] !=
                     engine.get(key, ("",))[0] and not key[0].startswith("obs."))


@pytest.mark.worker
def test_a_worker_scan_matches_the_engine_run_directly(cast, good_client, scan_worker, testworld):
    scan = pipeline.start_scan(client=good_client, sprint=cast.nova_sprint, requested_by=cast.alice)
    assert scan.parts_total >= len(GOOD_HOSTS) + 1
    done = wait_for(lambda: ScanRun.objects.filter(pk=scan.pk, state=ScanRun.DONE).first(), timeout=60,
                    message=f"scan to finish\n{scan_worker.log()}")
    direct = run_scan(pipeline.target_for_client(good_client), worker_profile())
    assert _verdicts(done.findings.all()) == _verdicts(direct.findings), _differences(done, direct)
    engine_part = [f for f in pipeline.engine_findings(done) if not f.check.startswith("obs.")]
    assert (scoring.score(engine_part), scoring.decision(engine_part)) == (direct.score, direct.decision)
    assert done.score == scoring.score(pipeline.engine_findings(done))  # the obs.* findings count too
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

    with django_capture_on_commit_callbacks(execute=False):  # no worker runs these parts: one is run here
        scan = pipeline.start_scan(client=good_client, requested_by=cast.alice, only=["http.hsts", "tls."])
    ran = scan.parts.order_by("pk").first()
    pipeline.run_part(ran.pk)
    measured = set(scan.findings.values_list("check_id", "target"))
    assert measured and not scan.findings.filter(status="error").exists()
    assert pipeline.finalize_overdue(now=timezone.now() + timedelta(hours=1)) == 1
    scan.refresh_from_db()
    assert scan.state == ScanRun.DONE and scan.failure_reason == "deadline passed" and scan.score is not None
    errors = scan.findings.filter(status="error")
    assert errors.exists() and {f.evidence["error"] for f in errors} == {"scan_deadline"}
    assert not measured & set(errors.values_list("check_id", "target"))  # what was measured stays as measured
    assert pipeline.finalize_overdue(now=timezone.now() + timedelta(hours=1)) == 0


@pytest.mark.django_db
def test_a_scan_no_worker_ran_before_its_deadline_fails_without_a_score(cast, good_client, world_state,
                                                                        django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=False):  # the broker is down: no worker ever sees the parts
        scan = pipeline.start_scan(client=good_client, sprint=cast.nova_sprint, requested_by=cast.alice)
    items = dict(cast.nova_sprint.items.values_list("pk", "status"))
    assert pipeline.finalize_overdue(now=timezone.now() + timedelta(minutes=1)) == 0  # not yet overdue
    assert pipeline.finalize_overdue(now=timezone.now() + timedelta(hours=1)) == 1
    scan.refresh_from_db()
    # Before: DONE with a score (and "GO") made of nothing but "could not decide" findings.
    assert scan.state == ScanRun.FAILED and scan.finished_at
    assert scan.score is None and scan.grade == "" and scan.decision == ""
    assert "No worker started this scan" in scan.failure_reason and not scan.findings.exists()
    assert dict(cast.nova_sprint.items.values_list("pk", "status")) == items  # the checklist is left alone
    assert pipeline.finalize_overdue(now=timezone.now() + timedelta(hours=1)) == 0


@pytest.mark.django_db
def test_a_queued_scan_waits_longer_while_the_workers_are_busy_then_fails_as_too_busy(
        cast, good_client, world_state, django_capture_on_commit_callbacks, settings):
    from datetime import timedelta

    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=False):
        busy = pipeline.start_scan(client=good_client, requested_by=cast.alice, only=["http.hsts"])
        queued = pipeline.start_scan(client=good_client, requested_by=cast.alice, only=["tls."])
    deadline = queued.deadline
    later = timezone.now() + timedelta(seconds=settings.SCAN_DEADLINE_SECONDS + 1)
    busy.parts.update(started_at=later)  # a worker is on another scan: alive, only busy
    assert pipeline.finalize_overdue(now=later) == 1  # the busy scan itself: started, finalized with errors
    queued.refresh_from_db()
    assert queued.state == ScanRun.QUEUED and queued.deadline > deadline  # waits on; before: FAILED "no worker"
    much_later = queued.created_at + timedelta(seconds=settings.SCAN_DEADLINE_SECONDS * pipeline.QUEUE_WAIT_DEADLINES
                                               + 1)
    ScanPart.objects.filter(scan=busy).update(started_at=much_later)
    ScanRun.objects.filter(pk=queued.pk).update(deadline=much_later - timedelta(seconds=1))
    assert pipeline.finalize_overdue(now=much_later) == 1
    queued.refresh_from_db()
    assert queued.state == ScanRun.FAILED and queued.failure_reason == pipeline.TOO_BUSY


@pytest.mark.worker
def test_a_worker_killed_mid_scan_is_replaced_and_the_scan_completes_without_loss(
        cast, good_client, world_state, testworld, transactional_db, settings):
    # Beat's re-dispatch runs in this process; short thresholds stand in for its 15-second tick.
    settings.SCAN_PART_UNSTARTED_SECONDS = 1
    settings.SCAN_PART_STALLED_SECONDS = 2
    # One connection per slot, so the scan is published as one task per family group (seven), not two halves: the
    # kill lands while tasks are still queued and unfinished.
    small_tasks = {"SCAN_PART_CONNECTIONS": "1", "SCAN_TASKS_PER_SCAN": "8"}
    settings.SCAN_PART_CONNECTIONS, settings.SCAN_TASKS_PER_SCAN = 1, 8
    env = {"LAUNCHREADY_TESTWORLD_STATE": str(world_state), **small_tasks}
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
    direct = run_scan(pipeline.target_for_client(good_client), worker_profile())
    assert _verdicts(done.findings.all()) == _verdicts(direct.findings)  # nothing lost, nothing twice
    assert done.parts_done == done.parts_total == ScanPart.objects.filter(scan=done).exclude(finished_at=None).count()
    assert done.failure_reason == ""


@pytest.mark.worker
def test_twenty_scans_at_once_complete_within_the_per_host_connection_limit(
        cast, good_client, world_state, testworld, transactional_db):
    from tests.testworld.zones import MAIN

    only = ["http.", "tls."]
    # Unlimited, one scan of this client alone opens more connections at once than the limit allows.
    testworld.peak_connections.clear()
    run_scan(pipeline.target_for_client(good_client), worker_profile(), only)
    assert testworld.peak_connections[MAIN] > 4, "the test world did not see parallel connections: nothing to limit"

    env = {"LAUNCHREADY_TESTWORLD_STATE": str(world_state), "SCAN_HOST_CONCURRENCY": "4",
           "SCAN_PART_CONNECTIONS": "2"}
    worker = WorkerProcess(queues="scans", concurrency=4, extra_env=env).start()
    testworld.peak_connections.clear()
    try:
        scans = [pipeline.start_scan(client=good_client, requested_by=cast.alice, only=only) for _ in range(20)]
        ids = [s.pk for s in scans]
        wait_for(lambda: ScanRun.objects.filter(pk__in=ids, state=ScanRun.DONE).count() == 20, timeout=150,
                 interval=0.5, message=f"20 scans to finish\n{worker.log()}")
    finally:
        worker.stop()
    assert 2 <= testworld.peak_connections[MAIN] <= 4
    direct = _verdicts(run_scan(pipeline.target_for_client(good_client), worker_profile(), only).findings)
    for scan in ScanRun.objects.filter(pk__in=ids):
        assert _verdicts(scan.findings.all()) == direct
        assert scan.failure_reason == ""


@pytest.mark.django_db
def test_host_slots_are_limited_released_and_expire(settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.SCAN_HOST_CONCURRENCY, settings.SCAN_PART_CONNECTIONS = 6, 3
    assert pipeline.slots_per_host() == 2 and pipeline.connections_per_part() == 3
    held = [pipeline.claim_host_slot("good.lrtest", holder) for holder in ("a", "b")]
    assert sorted(held) == [0, 1]
    assert pipeline.claim_host_slot("good.lrtest", "c") is None
    assert pipeline.claim_host_slot("other.lrtest", "c") is not None  # another target has its own slots
    pipeline.release_host_slot("good.lrtest", held[0], "somebody-else")  # only the holder can release
    assert pipeline.claim_host_slot("good.lrtest", "c") is None
    pipeline.release_host_slot("good.lrtest", held[0], "a")
    assert pipeline.claim_host_slot("good.lrtest", "c") == held[0]
    # A worker killed while holding a slot loses it when the lease expires.
    later = timezone.now() + timedelta(seconds=settings.SCAN_HOST_LEASE_SECONDS + 1)
    assert pipeline.claim_host_slot("good.lrtest", "d", now=later) is not None
    with pytest.raises(pipeline.HostBusy):
        pipeline.HostSlot("good.lrtest").acquire(wait=0.1)


@pytest.mark.django_db
def test_a_part_waiting_for_a_slot_is_not_published_again_by_beat(cast, good_client, world_state, settings, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    settings.SCAN_HOST_CONCURRENCY, settings.SCAN_PART_CONNECTIONS = 1, 1
    with django_capture_on_commit_callbacks(execute=False):
        scan = pipeline.start_scan(client=good_client, requested_by=cast.alice, only=["http.hsts"])
    part = scan.parts.first()
    assert pipeline.claim_host_slot(good_client.domain, "another-part") is not None
    with pytest.raises(pipeline.HostBusy):
        pipeline.run_part(part.pk)
    part.refresh_from_db()
    assert part.waiting_at is not None and part.started_at is None
    soon = timezone.now() + timedelta(seconds=settings.SCAN_PART_UNSTARTED_SECONDS / 2)
    ScanRun.objects.filter(pk=scan.pk).update(created_at=timezone.now() - timedelta(hours=1))
    published = []
    monkeypatch.setattr(pipeline, "dispatch", lambda ids: published.extend(ids) or True)
    pipeline.redispatch_stalled(now=soon)
    assert published and part.pk not in published  # never-started parts go again; the waiting one does not
    published.clear()
    pipeline.redispatch_stalled(now=timezone.now() + timedelta(seconds=settings.SCAN_PART_UNSTARTED_SECONDS + 1))
    assert part.pk in published  # its waiting task went silent (lost with a broker): publish it again


@pytest.mark.django_db
def test_parts_are_published_in_a_few_tasks_of_whole_families_per_scan(cast, good_client, world_state, settings,
                                                                        monkeypatch,
                                                                        django_capture_on_commit_callbacks):
    from apps.checks import tasks

    settings.SCAN_HOST_CONCURRENCY, settings.SCAN_PART_CONNECTIONS, settings.SCAN_TASKS_PER_SCAN = 8, 4, 0
    published = []
    monkeypatch.setattr(tasks.run_scan_parts, "apply_async", lambda args, **kw: published.append(args[0]))
    with django_capture_on_commit_callbacks(execute=True):
        one = pipeline.start_scan(client=good_client, requested_by=cast.alice)
        two = pipeline.start_scan(client=good_client, requested_by=cast.alice, only=["http.hsts"])
    # One task per connection slot (8 // 4) for the full scan; the second scan's parts are all of one family.
    assert len(published) == 2 + 1
    owners = {p.pk: p for p in ScanPart.objects.all()}
    assert sorted(pk for batch in published for pk in batch) == sorted(owners)  # every part once
    for batch in published:
        assert len({owners[pk].scan_id for pk in batch}) == 1  # never across scans
    batch_of = {pk: i for i, batch in enumerate(published) for pk in batch}
    for scan in (one, two):
        parts = [p for p in owners.values() if p.scan_id == scan.pk]
        for family in {p.family for p in parts}:  # a family's parts share one task
            assert len({batch_of[p.pk] for p in parts if p.family == family}) == 1
        # and so do the families that fetch the same pages
        assert len({batch_of[p.pk] for p in parts if p.family in pipeline.PAGE_FAMILIES}) == 1
    sizes = sorted(len(batch) for batch in published if owners[batch[0]].scan_id == one.pk)
    assert sizes[0] >= sizes[1] / 2, sizes  # balanced
    settings.SCAN_TASKS_PER_SCAN = 50  # never more tasks than slots: the extra ones could only wait
    assert pipeline.tasks_per_scan() == 2 and len(pipeline.plan_batches(list(owners))) == 3


@pytest.mark.django_db
def test_a_redelivered_batch_records_only_the_parts_not_yet_recorded(cast, good_client, world_state, testworld,
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        scan = pipeline.start_scan(client=good_client, requested_by=cast.alice, only=["http.hsts", "dns."])
    ids = list(scan.parts.order_by("pk").values_list("pk", flat=True))
    pipeline.run_parts(ids[:2])  # a first delivery got this far, then its worker died
    first = set(Finding.objects.filter(scan=scan).values_list("pk", flat=True))
    scan.refresh_from_db()
    assert scan.parts_done == 2 and scan.state == ScanRun.RUNNING
    pipeline.run_parts(ids)  # the whole batch is delivered again
    scan.refresh_from_db()
    assert scan.state == ScanRun.DONE and scan.parts_done == scan.parts_total == len(ids)
    assert first and first <= set(Finding.objects.filter(scan=scan).values_list("pk", flat=True))
    direct = run_scan(pipeline.target_for_client(good_client), worker_profile(), ["http.hsts", "dns."])
    assert _verdicts(scan.findings.all()) == _verdicts(direct.findings)


def test_a_batch_done_before_the_live_interval_is_recorded_once(cast, good_client, world_state, monkeypatch,
                                                                 django_capture_on_commit_callbacks, settings):
    settings.SCAN_LIVE_RECORD_SECONDS = 60  # nothing is shown sooner than this after the batch starts
    with django_capture_on_commit_callbacks(execute=False):
        scan = pipeline.start_scan(client=good_client, requested_by=cast.alice, only=["http.hsts", "dns."])
    ids = list(scan.parts.values_list("pk", flat=True))
    calls = []
    real_record = pipeline.record_parts
    monkeypatch.setattr(pipeline, "record_parts",
                        lambda results, *scan: (calls.append(len(results)), real_record(results, *scan)))
    started = time.monotonic()
    pipeline.run_parts(ids)
    assert time.monotonic() - started < 30  # the pending recording did not hold the batch for the interval
    scan.refresh_from_db()
    assert calls == [len(ids)] and scan.state == ScanRun.DONE and scan.findings.exists()  # nothing twice, nothing lost
    assert set(ScanPart.objects.filter(scan=scan).values_list("attempts", flat=True)) == {1}  # none ran twice


@pytest.mark.django_db
def test_a_task_takes_several_free_slots_but_never_more_than_exist(settings):
    settings.SCAN_HOST_CONCURRENCY, settings.SCAN_PART_CONNECTIONS = 8, 2
    assert pipeline.slots_per_host() == 4
    a = pipeline.HostSlot("good.lrtest").acquire(up_to=3)
    assert len(a.slots) == 3
    b = pipeline.HostSlot("good.lrtest").acquire(up_to=3)
    assert len(b.slots) == 1 and not set(a.slots) & set(b.slots)  # what was left
    with pytest.raises(pipeline.HostBusy):
        pipeline.HostSlot("good.lrtest").acquire(up_to=3)
    with a:
        pass
    assert len(pipeline.HostSlot("good.lrtest").acquire(up_to=4).slots) == 3  # a's slots came back, b still holds one


def test_a_batch_records_its_parts_as_they_finish_not_all_at_its_end(cast, good_client, world_state, testworld,
                                                                    monkeypatch, django_capture_on_commit_callbacks,
                                                                    settings):
    settings.SCAN_LIVE_RECORD_SECONDS = 0  # record as soon as parts finish (a long scan's steady state)
    with django_capture_on_commit_callbacks(execute=False):
        scan = pipeline.start_scan(client=good_client, requested_by=cast.alice, only=["http.hsts", "dns."])
    ids = list(scan.parts.order_by("pk").values_list("pk", flat=True))
    assert len(ids) > 2
    recorded = []  # (parts in this call, the scan's state just before it)
    real_record = pipeline.record_parts

    def spy(results, *held):  # held: the scan the task passes along, if it does
        recorded.append((len(results), ScanRun.objects.get(pk=scan.pk).state))
        real_record(results, *held)

    monkeypatch.setattr(pipeline, "record_parts", spy)
    pipeline.run_parts(ids)  # one batch, as one task would run it
    scan.refresh_from_db()
    assert scan.state == ScanRun.DONE and scan.parts_done == scan.parts_total == len(ids)
    # Findings landed part by part while the batch ran; the held-back rest (the home part, the last) came at the end.
    assert len(recorded) >= 2 and recorded[0][0] == 1, recorded
    assert all(state == ScanRun.RUNNING for _n, state in recorded), recorded
    assert sum(n for n, _state in recorded) == len(ids)
    direct = run_scan(pipeline.target_for_client(good_client), worker_profile(), ["http.hsts", "dns."])
    assert _verdicts(scan.findings.all()) == _verdicts(direct.findings)


@pytest.mark.django_db(transaction=True)
def test_a_long_part_keeps_its_slot_and_is_not_published_again_while_it_runs(cast, world_state, settings,
                                                                             django_capture_on_commit_callbacks):
    # A load probe may take minutes; before, a part running longer than SCAN_PART_STALLED_SECONDS was published
    # again, and its duplicate took the host slot once the lease ran out: the client was probed twice at once.
    # Here the part is slow for real: the test world's trickle site answers a byte at a time until the timeout.
    import threading
    from datetime import timedelta

    from django.db import connections
    from django.utils import timezone

    from apps.checks.models import HostLease

    settings.SCAN_HEARTBEAT_SECONDS = 0.2
    settings.SCAN_PART_STALLED_SECONDS = 1
    client = Client.objects.create(workspace=cast.acme, name="Slow Co", domain="trickle.lrtest",
                                   network_profile="testworld")
    with django_capture_on_commit_callbacks(execute=False):
        scan = pipeline.start_scan(client=client, requested_by=cast.alice, only=["http.hsts"])
    part = scan.parts.get()

    def run():
        try:
            pipeline.run_part(part.pk)
        finally:
            connections.close_all()

    worker = threading.Thread(target=run)
    started = timezone.now()
    worker.start()
    try:
        time.sleep(2.5)
        assert ScanPart.objects.get(pk=part.pk).finished_at is None, "the part was not slow: nothing was tested"
        assert pipeline.redispatch_stalled() == 0  # alive (its heartbeat): not published again
        held = list(HostLease.objects.exclude(holder="").values_list("expires_at", flat=True))
        assert held and min(held) > started + timedelta(seconds=settings.SCAN_HOST_LEASE_SECONDS + 1)  # renewed
    finally:
        worker.join(timeout=60)
    assert ScanPart.objects.get(pk=part.pk).finished_at is not None
