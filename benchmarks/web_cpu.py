"""CPU per request of the web_at_scale pages, measured in-process (no gunicorn, no load tool, no queueing).

    python benchmarks/web_cpu.py                      # every page, 50 requests each (the 50 users/objects)
    python benchmarks/web_cpu.py --pages sprint --profile 30   # + cProfile, the 30 costliest functions

Uses web_at_scale's seeded database (run that benchmark once first), its settings (DEBUG=0, production) and
its URLs and sessions. Each page is fetched once per user/object to warm up, then timed: process CPU
(time.process_time: Python in this process), the PostgreSQL backend's CPU (utime + stime of its process from
/proc, same machine; 10 ms ticks, so only the mean over the requests means anything) and wall time; medians over
the requests except the database's mean. Two cores shared with other work make wall-clock figures noisy; the CPU
figures are the ones to compare. Last line: `web_cpu dashboard_cpu_ms=… dashboard_db_cpu_ms=… …`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

from benchmarks import web_at_scale  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", default="", help="comma-separated subset of pages")
    parser.add_argument("--rounds", type=int, default=1, help="timed passes over the 50 users/objects")
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions (cProfile)")
    args = parser.parse_args()
    env = web_at_scale.django_env(web_at_scale.bench_database_url())
    plan = web_at_scale.pages(env)  # sessions are made in a subprocess, before Django is set up here
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    settings.ROOT_URLCONF = "benchmarks.web_at_scale"  # the product's URLs + the trivial page, as under gunicorn

    if args.pages:
        plan = {k: v for k, v in plan.items() if k in set(args.pages.split(","))}
    client = Client(HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="127.0.0.1")
    from django.db import connection

    def backend_cpu_ms():  # the PostgreSQL server process serving this connection (a local server)
        try:
            with open(f"/proc/{backend_pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
        except OSError:
            return float("nan")

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend_pid = cursor.fetchone()[0]
    figures = {}
    for page, entries in plan.items():
        def fetch(path, cookie):
            client.cookies.clear()
            if cookie:
                name, value = cookie.split("=", 1)
                client.cookies[name] = value
            return client.get(path)

        for path, cookie, needle in entries:  # warm-up, and the same checks the load benchmark makes
            response = fetch(path, cookie)
            assert response.status_code == 200 and needle in response.content.decode(), (page, path)
        cpu, wall, size = [], [], 0
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
        db0 = backend_cpu_ms()
        for _ in range(args.rounds):
            for path, cookie, _needle in entries:
                c0, w0 = time.process_time(), time.perf_counter()
                if profiler:
                    profiler.enable()
                response = fetch(path, cookie)
                if profiler:
                    profiler.disable()
                cpu.append((time.process_time() - c0) * 1000)
                wall.append((time.perf_counter() - w0) * 1000)
                size = len(response.content)
        db = (backend_cpu_ms() - db0) / len(cpu)
        cpu.sort()
        wall.sort()
        figures[page] = (cpu[len(cpu) // 2], db, wall[len(wall) // 2])
        print(f"  {page:9s} cpu p50 {figures[page][0]:5.1f} ms  db cpu mean {db:4.1f} ms  wall p50 "
              f"{figures[page][2]:5.1f} ms  ({len(cpu)} requests, {size:,} bytes)", flush=True)
        if profiler:
            import pstats

            pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
    print("web_cpu " + " ".join(f"{k}_cpu_ms={c:.1f} {k}_db_cpu_ms={d:.1f} {k}_wall_ms={w:.1f}"
                                for k, (c, d, w) in figures.items()))


if __name__ == "__main__":
    main()
