"""Benchmark: the scan pipeline, from "Run scan" to the first finding on screen, and its overhead over the engine.

Run from the repository root: `python benchmarks/pipeline.py` (embedded broker), or with `REDIS_URL=redis://…/N`
(real Redis; the database number is flushed of this benchmark's queues only). Everything else is its own: a
temporary var dir (SQLite database, broker folders), the test world in a child process, the demo workspace, one
Celery worker on the `scans` queue.

- first_finding_ms: the consultant's POST to the sprint's "Run scan" (Django test client, real view) until the live
  progress partial (the page htmx polls) lists a finding; median of FIRST_RUNS scans.
- overhead_ratio: a full scan of the demo client NovaChat through Celery + the broker ("Run scan" → the worker marks
  it done: its finished_at, so this process need not poll often and take CPU from the worker) divided by the same
  scan run directly by the engine in one process with the same politeness budget (max_concurrency =
  SCAN_HOST_CONCURRENCY connections); medians of FULL_RUNS each, pipeline and direct runs alternating so both see
  the same machine load, each started on an idle machine (settle()). The findings must match (same_findings; obs.*
  excluded: monitoring contributes them in the pipeline only).
The worker runs production-like (DEBUG off) and is warmed up first (two untimed scans: each prefork child's first
task pays imports and a database connection), as a deployed worker is. A breakdown line gives each pipeline run's
stages from the database's timestamps. Last line: `pipeline first_finding_ms=… overhead_ratio=…` (then the figures
it came from).

Figures (2 cores, quiet machine, 06:25 UTC 2026-11-29, a faster machine than before): Redis overhead_ratio 1.06
(pipeline 0.103 s, direct from idle 0.098 s; against the direct run repeated warm, 0.064 s: 1.61), embedded broker
1.03 (warm 1.23); first_finding_ms 126 (Redis) / 129 (embedded). The pipeline's own steps, from the database's
timestamps: created → first part started 7–9 ms, last part recorded → finalized 5–6 ms. The engine's run time is
bimodal, directly and in the worker alike (≈46 or ≈90 ms: in the slow runs every audit.* check of the scan starts
35–57 ms late; giving the test world's nameserver its own thread did not change that), which is why the warm direct
run, mostly fast, gives a higher ratio than two runs started alike from idle. Earlier (03:45, the slower machine):
Redis 1.31 and 0.99, embedded 1.07. History: one task per part ≈5.5; batches of hostnames with every part recorded
at once 1.6–2.5; one task per scan with progress recorded every 0.25 s ≈1.15–1.3 (Redis).
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The script's own folder must not come first: benchmarks/email.py would shadow the standard library's `email`.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

FIRST_RUNS = 5
FULL_RUNS = 11
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", "2"))


def serve(state_path, ready, stop):
    from tests.testworld import TestWorld

    with TestWorld() as world:
        world.write_state(state_path)
        ready.set()
        stop.wait(900)


def main() -> None:
    var = Path(tempfile.mkdtemp(prefix="lr-bench-pipeline-"))
    state_path = var / "testworld.json"
    os.environ.update({"LAUNCHREADY_VAR_DIR": str(var), "LAUNCHREADY_TESTWORLD_STATE": str(state_path),
                       "LAUNCHREADY_TESTING": "1", "DJANGO_SETTINGS_MODULE": "launchready.settings"})
    # Production-like: DEBUG off (no query log, production middleware); the test client then asks over "https".
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-" + os.urandom(24).hex())
    os.environ.pop("DATABASE_URL", None)  # a database of its own, in the temporary var dir

    ctx = multiprocessing.get_context("fork")  # before Django and its connections exist
    ready, stop = ctx.Event(), ctx.Event()
    world = ctx.Process(target=serve, args=(state_path, ready, stop), daemon=True)
    world.start()
    worker = None
    try:
        if not ready.wait(30):
            raise SystemExit("the test world did not start")
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("demo", no_scan=True, stdout=open(os.devnull, "w"))  # noqa: SIM115 - discarded output
        from tests.worker import WorkerProcess

        worker = WorkerProcess(queues="scans", concurrency=WORKER_CONCURRENCY).start()
        broker = "redis" if settings.REDIS_URL else "filesystem"
        warm_up()
        first_ms = measure_first_finding()
        pipeline_s, direct_s, direct_warm_s, direct_unlimited_s, same = measure_overhead()
        ratio = pipeline_s / direct_s
        print(f"broker={broker} worker_concurrency={WORKER_CONCURRENCY} "
              f"host_concurrency={settings.SCAN_HOST_CONCURRENCY} part_connections={settings.SCAN_PART_CONNECTIONS}")
        print(f"first_finding_ms runs: {' '.join(f'{v:.0f}' for v in first_ms)}")
        print(f"full scan: pipeline_s={pipeline_s:.3f} direct_s={direct_s:.3f} (the direct run repeated at once, "
              f"warm: {direct_warm_s:.3f}, ratio {pipeline_s / direct_warm_s:.2f}; without the politeness limit: "
              f"{direct_unlimited_s:.3f}) same_findings={same}")
        print(f"pipeline first_finding_ms={statistics.median(first_ms):.0f} overhead_ratio={ratio:.2f} "
              f"pipeline_s={pipeline_s:.3f} direct_s={direct_s:.3f} direct_warm_s={direct_warm_s:.3f} "
              f"broker={broker}")
    finally:
        if worker:
            worker.stop()
        stop.set()
        world.join(5)


def _wait(predicate, timeout, interval):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"timed out after {timeout}s")


def warm_up() -> None:
    """Two untimed scans through the worker: each prefork child pays its imports and database connection on its
    first task, which a deployed (long-running) worker has long done."""
    from apps.checks import pipeline
    from apps.checks.models import ScanRun
    from apps.clients.models import Client

    client = Client.objects.get(domain="novachat.lrtest")
    for _ in range(2):
        scan = pipeline.start_scan(client=client)
        _wait(lambda pk=scan.pk: ScanRun.objects.filter(pk=pk, state=ScanRun.DONE).exists(), 120, 0.05)


def measure_first_finding() -> list[float]:
    from django.test import Client as WebClient
    from django.urls import reverse

    from apps.checks.models import ScanRun
    from apps.core.management.commands.demo import OWNER_EMAIL
    from apps.sprints.models import Sprint
    from apps.tenants.models import User

    sprint = Sprint.objects.filter(client__domain="novachat.lrtest").first()
    web = WebClient()
    web.force_login(User.objects.get(email=OWNER_EMAIL))
    run_url = reverse("checks:run_for_sprint", kwargs={"sprint_id": sprint.pk})
    results = []
    for _ in range(FIRST_RUNS):
        started = time.perf_counter()
        response = web.post(run_url, secure=True)
        assert response.status_code == 302, response.status_code
        progress_url = response.url.rstrip("/") + "/progress/"

        def finding_on_screen(url=progress_url):
            return 'class="finding-feed"' in web.get(url, HTTP_HX_REQUEST="true", secure=True).content.decode()

        _wait(finding_on_screen, timeout=30, interval=0.01)
        results.append((time.perf_counter() - started) * 1000)
        scan_id = response.url.rstrip("/").rsplit("/", 1)[-1]
        _wait(lambda sid=scan_id: ScanRun.objects.filter(pk=sid, state=ScanRun.DONE).exists(), 60, 0.05)
    return results


def measure_overhead() -> tuple[float, float, float, float, bool]:
    from django.conf import settings

    from apps.checks import pipeline
    from apps.checks.engine import run_scan
    from apps.checks.models import ScanRun
    from apps.checks.profiles import get_profile
    from apps.clients.models import Client

    client = Client.objects.get(domain="novachat.lrtest")
    target = pipeline.target_for_client(client)
    profile = get_profile("testworld")
    polite = profile.with_options(max_concurrency=settings.SCAN_HOST_CONCURRENCY)
    run_scan(target, polite)  # warm both paths once (imports, certificate loading)
    pipeline_runs, direct_runs, warm_runs, unlimited_runs, same, stages = [], [], [], [], True, []
    for i in range(FULL_RUNS + 1):
        # Timed from "Run scan" to the worker's finished_at (the moment it marks the scan done; same machine, same
        # clock), so this process polls rarely: polling every few ms would take CPU from the worker being measured.
        settle()
        started = time.time()
        scan = pipeline.start_scan(client=client)
        done = _wait(lambda pk=scan.pk: ScanRun.objects.filter(pk=pk, state=ScanRun.DONE).first(), 120, 0.05)
        elapsed = done.finished_at.timestamp() - started
        stages.append(_stages(done))
        settle()  # the worker finishes what follows "done" (checklist sync, alerts) before the direct run starts
        started = time.perf_counter()
        direct = run_scan(target, polite)
        direct_elapsed = time.perf_counter() - started
        started = time.perf_counter()  # the same again at once, on a warm process (caches, CPU, test world)
        run_scan(target, polite)
        warm_elapsed = time.perf_counter() - started
        settle()
        started = time.perf_counter()
        run_scan(target, profile)
        unlimited_elapsed = time.perf_counter() - started
        # obs.* are contributed at finalize from monitoring's data, which the engine alone never sees
        same = same and sorted((f.check_id, f.target, f.status) for f in done.findings.exclude(
            check_id__startswith="obs.")) == sorted((f.check, f.target, f.status) for f in direct.findings)
        if i:  # the first round warms the worker's processes
            pipeline_runs.append(elapsed)
            direct_runs.append(direct_elapsed)
            warm_runs.append(warm_elapsed)
            unlimited_runs.append(unlimited_elapsed)
    print("pipeline stages, ms (created→first part started, →last part recorded, →finalized):",
          "; ".join(" ".join(f"{v:.0f}" for v in row) for row in stages[1:]))
    return (statistics.median(pipeline_runs), statistics.median(direct_runs), statistics.median(warm_runs),
            statistics.median(unlimited_runs), same)


def settle() -> None:
    """Each timed run starts on an idle machine: nothing left over from the run before competes for the two cores."""
    time.sleep(0.3)


def _stages(scan) -> tuple[float, float, float]:
    from django.db.models import Max

    last = scan.parts.aggregate(last=Max("finished_at"))["last"]
    return ((scan.started_at - scan.created_at).total_seconds() * 1000,
            (last - scan.started_at).total_seconds() * 1000,
            (scan.finished_at - last).total_seconds() * 1000)


if __name__ == "__main__":
    main()
