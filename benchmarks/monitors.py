"""Monitors at a 1-minute interval against the test world's loopback HTTPS endpoint, N raised until something gives.

Run from the repository root: `python benchmarks/monitors.py`. Starts the test world in its own process (so its CPU
is not counted) and uses a throw-away SQLite database in a temporary LAUNCHREADY_VAR_DIR.

The measured process plays one worker plus the beat tick, without the broker: every 0.5 s it claims due slots
(the same conditional UPDATE as `tasks.tick`) and runs them through `service.run_slots` in batches (the body of
`tasks.probe_slots`), so probing, re-checks and recording are the production code paths.
For each N it runs one full minute plus a margin and reports: schedule drift (result recorded − slot due) p95,
whether every monitor was probed in the minute, and the CPU this process used (% of one core).

Env: BENCH_SIZES (default "1000,2500,5000,7500,10000,12500,15000"), BENCH_SECONDS per size (default 70).
Last line: `monitors max_monitors=… drift_p95_s=… cpu_pct=…`.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# benchmarks/email.py would shadow the stdlib `email` package: drop this folder from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
VAR = Path(tempfile.mkdtemp(prefix="lr-bench-monitors-"))
STATE = VAR / "testworld.json"
os.environ.update({"LAUNCHREADY_VAR_DIR": str(VAR), "DEBUG": "1", "LAUNCHREADY_TESTWORLD_STATE": str(STATE),
                   "DJANGO_SETTINGS_MODULE": "launchready.settings"})
os.environ.pop("DATABASE_URL", None)

import django  # noqa: E402

django.setup()

from datetime import timedelta  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.monitoring import service  # noqa: E402
from apps.monitoring.models import Monitor, ProbeResult  # noqa: E402

SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "1000,2500,5000,7500,10000,12500,15000").split(",")]
SECONDS = float(os.environ.get("BENCH_SECONDS", "70"))
BATCH = 500


def start_world():
    env = {**os.environ}
    proc = subprocess.Popen([sys.executable, "manage.py", "testworld"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while not STATE.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the test world did not start")
        time.sleep(0.2)
    return proc


def setup_monitors(n):
    from apps.clients.models import Client
    from apps.tenants.models import Workspace

    Monitor.objects.all().delete()
    workspace, _ = Workspace.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    client, _ = Client.objects.get_or_create(workspace=workspace, name="Uptime", domain="uptime.lrtest",
                                             defaults={"network_profile": "testworld"})
    start = timezone.now() + timedelta(seconds=2)
    Monitor.objects.bulk_create([
        Monitor(client=client, name=f"m{i}", url=f"https://uptime.lrtest/ping?m={i}", json_field="ok", timeout_seconds=10,
                next_due=start + timedelta(seconds=60 * i / n)) for i in range(n)], batch_size=1000)
    return start


def run(n):
    start = setup_monitors(n)
    cpu0, wall0 = time.process_time(), time.monotonic()
    while time.monotonic() - wall0 < SECONDS:
        slots = service.claim_due()
        for batch in service.batches(slots, BATCH):
            service.run_slots(batch)
        time.sleep(0.5)
    cpu_pct = 100 * (time.process_time() - cpu0) / (time.monotonic() - wall0)
    window_end = start + timedelta(seconds=60)
    results = ProbeResult.objects.filter(slot__lt=window_end, monitor__client__domain="uptime.lrtest")
    drifts = sorted((at - slot).total_seconds() for at, slot in results.values_list("at", "slot"))
    probed = results.values("monitor").distinct().count()
    failed = results.filter(ok=False).count()
    p95 = drifts[int(0.95 * (len(drifts) - 1))] if drifts else float("inf")
    ProbeResult.objects.all().delete()
    return p95, probed, failed, cpu_pct


def main():
    call_command("migrate", verbosity=0)
    world = start_world()
    best = (0, 0.0, 0.0)
    try:
        for n in SIZES:
            p95, probed, failed, cpu = run(n)
            ok = probed == n and p95 < 5.0 and failed == 0
            print(f"N={n}: probed {probed}/{n} in the minute, failures {failed}, drift p95 {p95:.2f} s, "
                  f"cpu {cpu:.0f} %{'' if ok else '  <- gives'}", flush=True)
            if not ok:
                break
            best = (n, p95, cpu)
    finally:
        world.terminate()
        world.wait(10)
    print(f"monitors max_monitors={best[0]} drift_p95_s={best[1]:.2f} cpu_pct={best[2]:.0f}")


if __name__ == "__main__":
    main()
