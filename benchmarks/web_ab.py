"""Paired A/B of two checkouts' CPU per request on the web_at_scale pages, for machines too noisy for web_cpu alone.

    git worktree add /tmp/base <commit>; ln -s "$PWD/.venv" /tmp/base/.venv; ln -s "$PWD/var" /tmp/base/var
    python benchmarks/web_ab.py /tmp/base --pages sprint,dashboard --requests 200

On a shared 2-core host the speed of the same code drifts by ±25 % from minute to minute, so two web_cpu runs one
after the other compare the host, not the code. Here two processes, one per checkout, serve the same request in
turn (A then B, then B then A) and each reports its process CPU for it; the figure is the median of the per-pair
ratios B/A, which the drift cancels out of. Same seeded database and settings as web_cpu (run web_at_scale once
first); B is this checkout. Last line: `web_ab sprint_ratio=0.80 sprint_a_cpu_ms=… sprint_b_cpu_ms=… …`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402


def serve(page: str) -> None:
    """Worker: warm up on every URL of the page, then answer each index read from stdin with the CPU ms it took."""
    from benchmarks import web_at_scale

    env = web_at_scale.django_env(web_at_scale.bench_database_url())
    plan = web_at_scale.pages(env)
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    settings.ROOT_URLCONF = "benchmarks.web_at_scale"
    client = Client(HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="127.0.0.1")
    entries = plan[page]

    def fetch(index):
        path, cookie, needle = entries[index % len(entries)]
        client.cookies.clear()
        if cookie:
            name, value = cookie.split("=", 1)
            client.cookies[name] = value
        response = client.get(path)
        if response.status_code != 200 or needle not in response.content.decode():
            raise SystemExit(f"{page} {path}: status {response.status_code} or content without {needle!r}")

    for index in range(len(entries)):
        fetch(index)
    print("ready", flush=True)
    for line in sys.stdin:
        started = time.process_time()
        fetch(int(line))
        print(f"{(time.process_time() - started) * 1000:.3f}", flush=True)


def compare(base: Path, page: str, requests: int) -> tuple[float, float, float]:
    workers = []
    for checkout in (base, ROOT):
        python = checkout / ".venv" / "bin" / "python"
        workers.append(subprocess.Popen(
            [str(python if python.exists() else sys.executable), str(checkout / "benchmarks" / "web_ab.py"),
             "--serve", page], cwd=checkout, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    try:
        for worker in workers:
            if worker.stdout.readline().strip() != "ready":
                raise SystemExit(f"a worker for {page} did not start (is the benchmark database seeded?)")
        cpu = [[], []]
        for index in range(requests):
            for k in ((0, 1) if index % 2 == 0 else (1, 0)):
                workers[k].stdin.write(f"{index}\n")
                workers[k].stdin.flush()
                cpu[k].append(float(workers[k].stdout.readline()))
    finally:
        for worker in workers:
            worker.stdin.close()
            worker.wait()
    ratios = sorted(b / a for a, b in zip(*cpu, strict=True) if a > 0)
    ratio = statistics.median(ratios)
    print(f"  {page:9s} A {statistics.median(cpu[0]):5.1f} ms  B {statistics.median(cpu[1]):5.1f} ms  "
          f"B/A {ratio:.3f} (quartiles {ratios[len(ratios) // 4]:.3f}–{ratios[3 * len(ratios) // 4]:.3f}, "
          f"{requests} pairs)", flush=True)
    return ratio, statistics.median(cpu[0]), statistics.median(cpu[1])


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        return serve(sys.argv[2])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", type=Path, help="the other checkout (A); B is this one")
    parser.add_argument("--pages", default="dashboard,client,sprint,portal", help="comma-separated pages")
    parser.add_argument("--requests", type=int, default=200, help="pairs of requests per page")
    args = parser.parse_args()
    if not (args.base / "benchmarks" / "web_ab.py").exists():
        # the base may predate this script: give it a copy (its own web_at_scale supplies the pages)
        (args.base / "benchmarks" / "web_ab.py").write_text(Path(__file__).read_text())
    figures = {page: compare(args.base.resolve(), page, args.requests) for page in args.pages.split(",")}
    print("web_ab " + " ".join(f"{p}_ratio={r:.3f} {p}_a_cpu_ms={a:.1f} {p}_b_cpu_ms={b:.1f}"
                               for p, (r, a, b) in figures.items()))


if __name__ == "__main__":
    main()
