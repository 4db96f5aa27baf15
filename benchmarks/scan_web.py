"""Benchmark: a full stage 1-3 scan of the test world's good site with six hostnames.

Run from the repository root: `python benchmarks/scan_web.py`. The test world runs in a child process so its
servers do not share the scanner's interpreter. Prints one cold scan and the median of warm scans; the last line is
`scan_web wall_s=… dns_queries=… hosts=…` (wall_s: median warm scan; cold_s and connections follow).
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repo root, not benchmarks/ (its email.py would shadow the stdlib)

RUNS = 5


def serve(state_queue, stop_event):
    from tests.testworld import TestWorld

    with TestWorld() as world:
        state_queue.put(world.state())
        stop_event.wait(300)


def main() -> None:
    from apps.checks.engine import NetworkProfile, Target, run_scan

    ctx = multiprocessing.get_context("fork")
    states, stop = ctx.Queue(), ctx.Event()
    world = ctx.Process(target=serve, args=(states, stop), daemon=True)
    world.start()
    try:
        state = states.get(timeout=30)
        # production-like timeouts (the defaults), loopback allowed: this is the test world
        profile = NetworkProfile.from_settings("testworld", nameservers=state["nameservers"],
                                               ca_bundle=state["ca_bundle"], port_map=state["port_map"],
                                               allowed_networks=state["allowed_networks"])
        target = Target.build("good.lrtest", ["www", "app", "api", "docs", "status"],
                              [("homepage", "https://good.lrtest/"), ("health", "https://good.lrtest/health")])
        results, walls = [], []
        for _ in range(RUNS + 1):
            started = time.perf_counter()
            results.append(run_scan(target, profile))
            walls.append(time.perf_counter() - started)
        cold, warm = walls[0], walls[1:]
        last = results[-1]
        statuses = {}
        for f in last.findings:
            statuses[f.status] = statuses.get(f.status, 0) + 1
        print(f"findings={len(last.findings)} statuses={statuses} score={last.score} grade={last.grade} "
              f"decision={last.decision}")
        print(f"cold_s={cold:.3f} warm_s={' '.join(f'{w:.3f}' for w in warm)}")
        assert len({r.dns_queries for r in results}) == 1, "every scan must make the same queries"
        print(f"scan_web wall_s={statistics.median(warm):.3f} dns_queries={last.dns_queries} "
              f"hosts={len(target.hostnames)} cold_s={cold:.3f} connections={last.connections}")
    finally:
        stop.set()
        world.join(5)


if __name__ == "__main__":
    main()
