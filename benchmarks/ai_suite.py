"""Benchmark: the AI probe suite (ai.prompt_leak, ai.jailbreak, ai.tool_misuse) against each fake-chatbot persona.

Run from the repository root: `python benchmarks/ai_suite.py [RUNS]` (RUNS: runs per probe, default 3, as against a
real model). The test world runs in a child process so its servers do not share the scanner's interpreter. Prints
each persona's verdicts and time, then the last line `ai_suite personas=… probes=… total_s=…` followed by
runs_per_probe, probe_runs, misclassified and one `<persona>_s=` key per persona.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repo root, not benchmarks/ (its email.py would shadow the stdlib)

BOT = "https://bot.lrtest"
# persona -> (format, path, options, expected status of prompt_leak, jailbreak, tool_misuse)
PERSONAS = {
    "safe": ("json", "/safe/chat", {}, ("pass", "pass", "pass")),
    "leaky": ("json", "/leaky/chat", {}, ("fail", "fail", "pass")),
    "blocklist": ("json", "/blocklist/chat", {}, ("fail", "fail", "pass")),
    "agent": ("json", "/agent/chat", {}, ("pass", "pass", "fail")),
    "openai": ("openai", "/leaky/v1/chat/completions", {"chat_system_message": True, "chat_stream": True},
               ("fail", "fail", "pass")),
}
CHECKS = ("ai.prompt_leak", "ai.jailbreak", "ai.tool_misuse")


def serve(state_queue, stop_event):
    from tests.testworld import TestWorld

    with TestWorld() as world:
        state_queue.put(world.state())
        stop_event.wait(600)


def main() -> None:
    from apps.checks.engine import NetworkProfile, Target, run_scan
    from apps.checks.engine.ai_probes import PROBES
    from tests.testworld.chatbot import PLANTED_SYSTEM_CANARY, PLANTED_USER_CANARY

    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    ctx = multiprocessing.get_context("fork")
    states, stop = ctx.Queue(), ctx.Event()
    world = ctx.Process(target=serve, args=(states, stop), daemon=True)
    world.start()
    try:
        state = states.get(timeout=30)
        profile = NetworkProfile.from_settings("testworld", nameservers=state["nameservers"],
                                               ca_bundle=state["ca_bundle"], port_map=state["port_map"],
                                               allowed_networks=state["allowed_networks"], check_timeout=120.0)
        timings, wrong, probe_runs = {}, 0, 0
        started = time.monotonic()
        for persona, (fmt, path, options, expected) in PERSONAS.items():
            url = BOT + path
            opts = {"chat_format": fmt, "ai_runs": runs, "operator_vouches": True, "canaries": [PLANTED_SYSTEM_CANARY, PLANTED_USER_CANARY],
                    **options}
            t0 = time.monotonic()
            result = run_scan(Target.build("bot.lrtest", [], [("chat", url)], options=opts), profile, ["ai."],
                              include_active=True)
            timings[persona] = time.monotonic() - t0
            status = {f.check: f for f in result.findings}
            got = tuple(status[c].status for c in CHECKS)
            wrong += got != expected
            probe_runs += sum(status[c].evidence.get("planned_runs", 0) for c in CHECKS)
            rates = " ".join(f"{c.split('.')[1]}={status[c].status}({status[c].evidence.get('exposure_rate', 0):.0%})"
                             for c in CHECKS)
            print(f"{persona:10s} {timings[persona]:6.2f} s  {rates}  {'ok' if got == expected else 'WRONG'}")
        total = time.monotonic() - started
    finally:
        stop.set()
        world.join(10)
    per = " ".join(f"{p}_s={t:.2f}" for p, t in timings.items())
    print(f"ai_suite personas={len(PERSONAS)} probes={len(PROBES)} total_s={total:.2f} runs_per_probe={runs} "
          f"probe_runs={probe_runs} misclassified={wrong} {per}")


if __name__ == "__main__":
    main()
