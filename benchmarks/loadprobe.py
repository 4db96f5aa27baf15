"""How fast can the load probe go honestly, and how close to the truth is it?  (SPEC.md section 7)

    python benchmarks/loadprobe.py

Starts the test world in a child process (so the generator gets this process to itself), then:
1. max_rate: the highest constant rate at which the generator keeps its schedule — its own lag p95 under 5 ms, at
   least 95 % of the planned rate sent — against the keep-alive /fast endpoint over HTTPS (3 s per step: doubling,
   then bisection);
2. stall_p95_err_pct: 200 requests/s for 20 s at /stall (1.5 s pause every 10 s); error of the probe's p95 against
   the true p95 derived from the server's pause schedule, in percent;
3. steady_p95_err_ms: 100 requests/s for 10 s at /steady (40 ms); error against the server's own answer times, in ms;
4. if Debian's wrk is installed, the same two endpoints with wrk (closed loop), to show what coordinated omission hides.
Last line: `loadprobe max_rate=… stall_p95_err_pct=… steady_p95_err_ms=…` (more keys follow).
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # the repo root, not benchmarks/ (its email.py would shadow the stdlib)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchready.settings")

from apps.checks.engine.loadprobe import LAG_P95_LIMIT_MS, Plan, percentile, run_load  # noqa: E402
from apps.checks.engine.net import ScanNet  # noqa: E402
from apps.checks.engine.profile import NetworkProfile  # noqa: E402

STEP_S = 3.0
MAX_SEARCH_RATE = 6400.0
WRK_LUA = 'done = function(s, latency, r) io.write(string.format("P95_US=%d\\n", latency:percentile(95))) end\n'


def world_process(conn):
    from tests.testworld import TestWorld
    from tests.testworld.perf_endpoints import state_of

    world = TestWorld().start()
    state = state_of(world)
    conn.send({"state": world.state(), "http_port": world.http_port})
    while True:
        command, *args = conn.recv()
        if command == "stop":
            break
        if command == "schedule":
            s = state.schedule
            conn.send((s.epoch, s.every, s.length))
        elif command == "served":
            conn.send(state.served(*args))
        elif command == "counts":
            conn.send((state.answered[args[0]], state.held))
    world.stop()


class RemoteWorld:
    def __enter__(self):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=world_process, args=(child,), daemon=True)
        self.proc.start()
        info = self.conn.recv()
        self.http_port = info["http_port"]
        state = info["state"]
        self.profile = NetworkProfile.from_settings(
            "benchmark", nameservers=state["nameservers"], ca_bundle=state["ca_bundle"], port_map=state["port_map"],
            allowed_networks=["127.0.0.0/8"], dns_timeout=1.0, connect_timeout=2.0)
        return self

    def ask(self, *command):
        self.conn.send(command)
        return self.conn.recv()

    def __exit__(self, *exc):
        self.conn.send(("stop",))
        self.proc.join(10)


def hold(schedule, t):
    epoch, every, length = schedule
    if t < epoch:
        return 0.0
    start = epoch + ((t - epoch) // every) * every
    return start + length - t if t < start + length else 0.0


async def probe(profile, url, rate, duration, *, exact=False):
    net = ScanNet(profile)
    await run_load(net, "https://perf.lrtest/fast", Plan.bounded(20, 0.25))  # warm TLS contexts and DNS
    plan = (Plan(rate, duration, round(rate * duration), 512, 5.0) if exact else Plan.bounded(rate, duration))
    return await run_load(net, url, plan)


def honest(report, rate) -> bool:
    lag = report.lag_p95_ms
    return (lag is not None and lag < LAG_P95_LIMIT_MS and report.achieved_rate >= 0.95 * rate
            and not report.errors and not report.deadline_hit)


def step(profile, rate) -> bool:
    report = asyncio.run(probe(profile, "https://perf.lrtest/fast", rate, STEP_S, exact=True))
    ok = honest(report, rate)
    ev = report.evidence()
    print(f"  rate {rate:7.0f}/s  sent {ev['achieved_rate']:7.1f}/s  lag p95 {ev['generator_lag']['p95_ms']} ms  "
          f"max {ev['generator_lag']['max_ms']} ms  latency p95 {ev['p95_ms']} ms  errors {dict(report.errors)}  "
          f"conns {ev['connections_opened']}  -> {'honest' if ok else 'NOT honest'}", flush=True)
    return ok


def max_rate(profile) -> float:
    good, bad, rate = 0.0, None, 100.0
    while rate <= MAX_SEARCH_RATE:
        if step(profile, rate):
            good, rate = rate, rate * 2
        else:
            bad = rate
            break
    if bad is None:
        return good
    for _ in range(3):
        middle = round((good + bad) / 2)
        if step(profile, middle):
            good = middle
        else:
            bad = middle
    return good


def wrk_p95_ms(world, path, seconds) -> float | None:
    answered, held = world.ask("counts", path)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_LUA)
    try:
        out = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "-s", script.name,
                              "-H", "Host: perf.lrtest", f"http://127.0.0.2:{world.http_port}{path}"],
                             capture_output=True, text=True, timeout=seconds + 30).stdout
    finally:
        os.unlink(script.name)
    requests = re.search(r"(\d+) requests in", out)
    found = re.search(r"P95_US=(\d+)", out)
    answered_after, held_after = world.ask("counts", path)
    print(f"  wrk {path}: {requests.group(1) if requests else '?'} requests in {seconds} s (closed loop, 8 conns); "
          f"the server answered {answered_after - answered}, of which {held_after - held} were held by a pause",
          flush=True)
    return int(found.group(1)) / 1000 if found else None


def main():
    started = time.monotonic()
    with RemoteWorld() as world:
        print("1. maximum honest rate (generator lag p95 < 5 ms), /fast over HTTPS keep-alive:", flush=True)
        best = max_rate(world.profile)

        print("2. /stall at 200 requests/s for 20 s:", flush=True)
        stall = asyncio.run(probe(world.profile, "https://perf.lrtest/stall", 200, 20))
        schedule = world.ask("schedule")
        truth = sorted(hold(schedule, s.intended) for s in stall.samples)
        true_p95 = percentile(truth, 95) * 1000
        stall_err = abs(stall.latency(95) * 1000 - true_p95) / true_p95 * 100
        print(f"  probe p95 {stall.latency(95) * 1000:.1f} ms, true p95 {true_p95:.1f} ms, error {stall_err:.1f} %, "
              f"lag p95 {stall.lag_p95_ms} ms, inconclusive={stall.inconclusive}", flush=True)

        print("3. /steady at 100 requests/s for 10 s:", flush=True)
        steady = asyncio.run(probe(world.profile, "https://perf.lrtest/steady", 100, 10))
        served = [b - a for a, b in world.ask("served", "/steady", steady.started)]
        steady_truth = percentile(sorted(served), 95) * 1000
        steady_err = abs(steady.latency(95) * 1000 - steady_truth)
        print(f"  probe p95 {steady.latency(95) * 1000:.1f} ms, server p95 {steady_truth:.1f} ms, "
              f"error {steady_err:.1f} ms, lag p95 {steady.lag_p95_ms} ms, inconclusive={steady.inconclusive}",
              flush=True)

        extra = ""
        if shutil.which("wrk"):
            print("4. wrk (closed loop) on the same endpoints:", flush=True)
            wrk_stall = wrk_p95_ms(world, "/stall", 20)
            wrk_steady = wrk_p95_ms(world, "/steady", 10)
            print(f"  wrk /stall p95 {wrk_stall} ms (true p95 for constant-rate arrivals ~{true_p95:.0f} ms); "
                  f"wrk /steady p95 {wrk_steady} ms", flush=True)
            extra = f" wrk_stall_p95_ms={wrk_stall} wrk_steady_p95_ms={wrk_steady}"
    print(f"loadprobe max_rate={best:g} stall_p95_err_pct={stall_err:.1f} steady_p95_err_ms={steady_err:.1f} "
          f"stall_true_p95_ms={true_p95:.0f} wall_s={time.monotonic() - started:.0f}{extra}")


if __name__ == "__main__":
    main()
