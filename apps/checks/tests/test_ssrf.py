"""SSRF suite: with the production guard, nothing private is ever connected to — not by name, literal or redirect.

The test world counts accepted connections per server address; the bait server (127.0.0.6) must see none, and
the engine's own connection log shows which addresses it actually dialled.
"""

import asyncio

import pytest

from apps.checks.engine import Target
from apps.checks.engine.runner import run_checks_async
from apps.checks.tests.helpers import finding
from tests.testworld import zones

CONNECTING_CHECKS = ("tls.", "http.", "edge.", "audit.localhost_refs", "audit.slow_routes")

PRIVATE_NAMES = [
    ("loopback.ssrf.lrtest", "127.0.0.6", "loopback"),
    ("ten.ssrf.lrtest", "10.0.0.1", "private"),
    ("rfc1918b.ssrf.lrtest", "172.16.5.4", "private"),
    ("rfc1918c.ssrf.lrtest", "192.168.1.1", "private"),
    ("metadata.ssrf.lrtest", "169.254.169.254", "link-local"),
    ("cgnat.ssrf.lrtest", "100.64.0.1", "carrier-grade NAT"),
    ("v6loop.ssrf.lrtest", "::1", "loopback"),
    ("ula.ssrf.lrtest", "fd00::1", "unique-local"),
    ("linklocal6.ssrf.lrtest", "fe80::1", "link-local"),
    ("mapped.ssrf.lrtest", "::ffff:127.0.0.6", "loopback"),
]


def scan_with_net(target, profile):
    return asyncio.run(run_checks_async(target, profile))


@pytest.fixture
def production(testworld):
    """The production guard (no allowed networks), pointed at the test world's DNS."""
    return testworld.profile(allowed_networks=())


@pytest.mark.parametrize("name, address, kind", PRIVATE_NAMES)
def test_names_resolving_to_private_addresses_are_refused(testworld, production, name, address, kind):
    bait_before = testworld.connections[zones.BAIT]
    findings, net = scan_with_net(Target(domain=name, roles={name: "app"}), production)
    assert net.connections == 0
    assert net.connected_ips == []
    assert testworld.connections[zones.BAIT] == bait_before
    connecting = [f for f in findings if f.check.startswith(CONNECTING_CHECKS) and f.status != "skipped"]
    assert connecting, "the scan should have tried the connecting checks"
    for f in connecting:
        assert f.status == "error", f
        assert f.evidence["error"] == "refused_address", f
        assert kind in f.summary, f.summary
        assert address in f.evidence["addresses"]
    assert not [f for f in findings if f.check.startswith(CONNECTING_CHECKS) and f.status == "pass"]


def test_rebinding_name_is_resolved_once_and_refused(testworld, production):
    name = "flip.ssrf.lrtest"
    testworld.dns._flips[name] = 0  # the next answer is the private one; the one after would be public
    queries_before = testworld.dns_queries(name, "A")
    bait_before = testworld.connections[zones.BAIT]
    findings, net = scan_with_net(Target(domain=name, roles={name: "app"}), production)
    # every check shared one answer: a later, different answer can never be used for a connection
    assert testworld.dns_queries(name, "A") - queries_before == 1
    assert net.connections == 0
    assert testworld.connections[zones.BAIT] == bait_before
    cert = next(f for f in findings if f.check == "tls.certificate")
    assert cert.status == "error"
    assert cert.evidence["addresses"] == [zones.BAIT]


def test_rebinding_after_a_public_answer_never_reaches_the_private_one(testworld):
    """First answer "public" (MAIN, the only admitted address), any later answer private (BAIT).

    Every check of the scan connects, many times, yet all connections go to the first answer and the name is
    queried once: there is no second resolution for a rebinding server to exploit.
    """
    name = "rebind.ssrf.lrtest"
    testworld.dns._flips[name] = 0
    queries_before = testworld.dns_queries(name, "A")
    bait_before = testworld.connections[zones.BAIT]
    profile = testworld.profile(allowed_networks=(f"{zones.MAIN}/32",))
    findings, net = scan_with_net(Target(domain=name, roles={name: "app"}), profile)
    assert testworld.dns_queries(name, "A") - queries_before == 1
    assert net.connections > 10
    assert set(net.connected_ips) == {zones.MAIN}
    assert testworld.connections[zones.BAIT] == bait_before
    assert next(f for f in findings if f.check == "tls.certificate").status == "pass"


def test_the_test_profile_does_reach_loopback(testworld):
    """Control: the same bait name is reachable with 127.0.0.0/8 allowed, so the refusals above are the guard's."""
    bait_before = testworld.connections[zones.BAIT]
    findings, net = scan_with_net(Target(domain="bait.lrtest"), testworld.profile())
    assert testworld.connections[zones.BAIT] > bait_before
    assert net.connected_ips and set(net.connected_ips) == {zones.BAIT}


REDIRECT_TARGETS = [
    ("http://bait.lrtest/", "loopback"),
    ("http://127.0.0.6/", "loopback"),
    ("http://2130706438/", "loopback"),  # 127.0.0.6 as one decimal number
    ("http://0x7f.0.0.6/", "loopback"),
    ("http://10.0.0.1/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://[::1]/", "loopback"),
    ("http://[fd00::1]/", "unique-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[::ffff:127.0.0.6]/", "loopback"),
    ("http://metadata.ssrf.lrtest/", "link-local"),
]


def test_redirects_to_private_addresses_are_refused_on_every_hop(testworld):
    # Only the redirecting server itself is admitted, so every range — loopback included — must be refused.
    profile = testworld.profile(allowed_networks=(f"{zones.MAIN}/32",))
    urls = [f"https://redirector.lrtest/redirect?to={to}" for to, _ in REDIRECT_TARGETS]
    target = Target.build("redirector.lrtest", endpoints=[("other", u) for u in urls])
    bait_before = testworld.connections[zones.BAIT]
    findings, net = asyncio.run(run_checks_async(target, profile, only=["edge.reachable"]))
    assert testworld.connections[zones.BAIT] == bait_before
    assert set(net.connected_ips) == {zones.MAIN}
    for url, (to, kind) in zip(urls, REDIRECT_TARGETS, strict=True):
        f = next(f for f in findings if f.target == url)
        assert f.status == "error", f
        assert f.evidence["error"] == "refused_address"
        assert kind in f.summary, f.summary
        assert f.evidence["hops"][0]["status"] == 302
        assert f.evidence["hops"][0]["location"] == to


def test_endpoint_literals_are_refused_without_dns_or_connection(testworld, production, scan):
    urls = ["http://127.0.0.6/", "http://[::ffff:127.0.0.6]/admin", "http://169.254.169.254/latest/meta-data/"]
    result = scan("good.lrtest", only=["audit.slow_routes"], endpoints=[("other", u) for u in urls],
                  profile=production)
    assert result.connections == 0
    for url in urls:
        f = finding(result, "audit.slow_routes", url)
        assert (f.status, f.evidence["error"]) == ("error", "refused_address")
