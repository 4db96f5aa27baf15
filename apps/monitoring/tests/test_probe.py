"""probe_batch against the test world's perf endpoints, with the test world's short scan timeouts."""

import asyncio

from apps.monitoring.probe import ProbeSpec, probe_batch


def test_a_monitor_timeout_longer_than_the_scan_read_timeout_is_honoured(testworld):
    profile = testworld.profile()  # read_timeout 0.6 s, request_timeout 1.5 s: a scan's limits, shortened
    slow = "https://perf.lrtest/steady?ms=1000"  # answers after 1 s of silence
    outcomes = asyncio.run(probe_batch(profile, [ProbeSpec("patient", slow, timeout=3),
                                                 ProbeSpec("hasty", slow, timeout=0.5)]))
    assert outcomes["patient"].ok and outcomes["patient"].status_code == 200  # the monitor allows 3 s: it waits
    hasty = outcomes["hasty"]
    assert not hasty.ok and hasty.public_cause == "timeout" and hasty.rechecked  # its own 0.5 s still applies
