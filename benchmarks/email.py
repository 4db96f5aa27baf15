"""Email checks over the whole email test corpus, each domain its own scan (fresh ScanNet, as in production).

Run from the repository root: `python benchmarks/email.py`. Starts the test world itself.
Last line: `email domains=… median_ms=… total_s=… queries_per_domain=…`.
"""

import sys
from pathlib import Path

# This file is named like the stdlib `email` package: drop its folder from the path before anything imports it.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

import statistics  # noqa: E402
import time  # noqa: E402

from apps.checks.engine import Target, run_scan  # noqa: E402
from apps.checks.engine.email import org_domain  # noqa: E402
from tests.testworld.email_zones import EMAIL_CASES  # noqa: E402
from tests.testworld.world import TestWorld  # noqa: E402


def main():
    org_domain("warm.example.com")  # load the packaged Public Suffix List once, as a long-lived worker would
    with TestWorld() as world:
        profile = world.profile()
        durations, queries, redundant = [], [], 0
        started = time.monotonic()
        for domain, fields in EMAIL_CASES.items():
            before = dict(world.dns.queries)
            t0 = time.monotonic()
            result = run_scan(Target.build(domain, **fields), profile, ["email"])
            durations.append((time.monotonic() - t0) * 1000)
            queries.append(result.dns_queries)
            asked = {k: n - before.get(k, 0) for k, n in world.dns.queries.items() if n - before.get(k, 0)}
            redundant += sum(n - 1 for n in asked.values())
        total = time.monotonic() - started
    slowest = max(zip(durations, EMAIL_CASES, strict=True))
    print(f"slowest {slowest[1]} {slowest[0]:.1f} ms; redundant_queries={redundant}; "
          f"max_queries={max(queries)} p90_ms={statistics.quantiles(durations, n=10)[-1]:.1f}")
    print(f"email domains={len(durations)} median_ms={statistics.median(durations):.1f} total_s={total:.2f} "
          f"queries_per_domain={sum(queries) / len(queries):.1f}")


if __name__ == "__main__":
    main()
