"""The test world itself: fast start, its own ports, a clean stop."""

import socket
import time

from tests.testworld import TestWorld, zones


def test_a_second_world_starts_fast_on_its_own_ports(testworld):
    started = time.monotonic()
    other = TestWorld().start()
    try:
        assert time.monotonic() - started < 1.0
        assert {other.https_port, other.http_port, other.dns_port}.isdisjoint(
            {testworld.https_port, testworld.http_port, testworld.dns_port})
        with socket.create_connection((zones.MAIN, other.https_port), timeout=1):
            pass
        assert other.connections[zones.MAIN] >= 0
    finally:
        other.stop()
    time.sleep(0.05)
    probe = socket.socket()
    try:
        assert probe.connect_ex((zones.MAIN, other.https_port)) != 0  # nothing listens after stop
    finally:
        probe.close()


def test_state_describes_how_to_reach_the_world(testworld, tmp_path):
    path = tmp_path / "state.json"
    testworld.write_state(path)
    state = testworld.state()
    assert state["nameservers"] == [f"127.0.0.1:{testworld.dns_port}"]
    assert state["port_map"] == f"80:{testworld.http_port},443:{testworld.https_port}"
    assert "good.lrtest" in state["demo_domains"]
    assert path.read_text().count("allowed_networks") == 1
