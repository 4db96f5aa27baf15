"""Bad input: servers and DNS that misbehave give `error` findings within their timeouts; the scan completes."""

import asyncio
import time
from urllib.parse import urlsplit

from apps.checks.engine import Target, run_scan
from apps.checks.engine.net import ScanNet, host_header
from tests.testworld.world import TEST_TIMEOUTS

BAD_HOSTS = ["blackhole.lrtest", "trickle.lrtest", "huge.lrtest", "garbage.lrtest", "servfail.lrtest",
             "refused.lrtest", "timeout.lrtest"]


def bad_target():
    return Target(domain="good.lrtest", hostnames=BAD_HOSTS, roles={h: "app" for h in BAD_HOSTS},
                  endpoints={"other": ["http://blackhole.lrtest/", "http://trickle.lrtest/", "http://huge.lrtest/",
                                       "http://garbage.lrtest/", "https://garbage.lrtest/"]})


def by(result, check, target):
    return next(f for f in result.findings if f.check == check and f.target == target)


def test_a_scan_full_of_bad_servers_completes_with_errors(testworld):
    started = time.monotonic()
    result = run_scan(bad_target(), testworld.profile())
    elapsed = time.monotonic() - started
    # everything runs concurrently: the whole scan costs about one slowest timeout, far below the check cap
    slowest = sorted(result.findings, key=lambda f: -f.duration_ms)[:3]
    assert elapsed < TEST_TIMEOUTS["check_timeout"], slowest
    assert result.findings
    for host in BAD_HOSTS:
        # TLS itself is fine on the trickling, garbage and huge servers; what speaks HTTP must not pass
        http_level = {"trickle.lrtest": ("http.", "edge.", "audit.localhost_refs"),
                      "garbage.lrtest": ("http.", "edge.", "audit.localhost_refs"),
                      "huge.lrtest": ("audit.localhost_refs", "http.mixed_content", "edge.caching")}.get(
            host, ("http.", "edge.", "audit.localhost_refs", "tls."))
        mine = [f for f in result.findings if f.target == host and f.check.startswith(http_level)]
        assert mine
        assert not [f for f in mine if f.status == "pass"], host
    for check in ("audit.localhost_refs", "http.mixed_content", "edge.caching"):
        assert by(result, check, "huge.lrtest").status == "error"
    for f in result.findings:
        if f.target == "trickle.lrtest" and f.check.startswith(("http.", "edge.")):
            assert f.status == "error", f

    # a server that never answers: the read timeout ends it
    f = by(result, "edge.reachable", "http://blackhole.lrtest/")
    assert (f.status, f.evidence["error"]) == ("error", "read_timeout")
    assert f.duration_ms < 1000 * (TEST_TIMEOUTS["read_timeout"] + TEST_TIMEOUTS["connect_timeout"]) + 500
    # a TLS handshake that hangs
    f = by(result, "tls.certificate", "blackhole.lrtest")
    assert (f.status, f.evidence["error"]) == ("error", "tls_timeout")
    # bytes trickling in, each in time but never finishing: the whole-request deadline ends it
    f = by(result, "edge.reachable", "http://trickle.lrtest/")
    assert (f.status, f.evidence["error"]) == ("error", "request_timeout")
    assert f.duration_ms < 1000 * TEST_TIMEOUTS["request_timeout"] + 1000
    # 50 MB: read up to the cap, then stop
    f = by(result, "audit.localhost_refs", "huge.lrtest")
    assert (f.status, f.evidence["error"]) == ("error", "too_large")
    assert f.evidence["cap_bytes"] == TEST_TIMEOUTS["max_body_bytes"]
    # garbage instead of HTTP, over plain TCP and inside TLS
    for url in ("http://garbage.lrtest/", "https://garbage.lrtest/"):
        f = by(result, "edge.reachable", url)
        assert (f.status, f.evidence["error"]) == ("error", "bad_http"), f
    # DNS failures
    assert by(result, "audit.resolves", "servfail.lrtest").evidence["error"] == "dns_servfail"
    assert by(result, "audit.resolves", "refused.lrtest").evidence["error"] == "dns_refused"
    assert by(result, "audit.resolves", "timeout.lrtest").evidence["error"] == "dns_timeout"
    for host in ("servfail.lrtest", "refused.lrtest", "timeout.lrtest"):
        assert by(result, "tls.certificate", host).status == "error"
        assert by(result, "dns.records", host).status == "error"


def test_huge_response_is_capped_not_buffered(testworld):
    import asyncio

    from apps.checks.engine import ScanNet

    async def fetch():
        net = ScanNet(testworld.profile(max_body_bytes=64 * 1024))
        return await net.fetch("https://huge.lrtest/")

    resp = asyncio.run(fetch())
    assert resp.truncated is True
    assert len(resp.body) == 64 * 1024


def test_check_timeout_turns_into_an_error_finding(testworld):
    profile = testworld.profile(check_timeout=0.3, read_timeout=5, request_timeout=5)
    result = run_scan(Target.build("good.lrtest", endpoints=[("other", "https://good.lrtest/slow?s=2")]), profile,
                      only=["audit.slow_routes"])
    f = by(result, "audit.slow_routes", "good.lrtest")
    assert (f.status, f.evidence["error"]) == ("error", "check_timeout")
    assert f.duration_ms < 1000


def test_a_url_with_characters_http_cannot_carry_is_sent_percent_encoded(testworld):
    # Monitor URLs and redirect targets may hold non-ASCII or spaces; h11 refuses them raw, which crashed a whole
    # batch of monitor probes. They go on the wire as browsers send them.
    response = asyncio.run(ScanNet(testworld.profile()).fetch("https://perf.lrtest/café menu"))
    assert response.status == 404  # the site's answer, not an exception
    assert testworld.perf.served("/caf%C3%A9%20menu")


def test_a_redirect_to_a_malformed_url_is_an_error_not_a_crash(testworld):
    chain = asyncio.run(ScanNet(testworld.profile()).follow("https://redirector.lrtest/redirect?to=http://[broken/"))
    assert chain.error is not None and chain.error.kind == "bad_redirect" and "[broken" in chain.error.reason
    assert chain.hops[0].status == 302


def test_an_internationalised_host_name_goes_in_the_host_header_as_idna():
    assert host_header(urlsplit("https://bücher.lrtest:8443/x")) == "xn--bcher-kva.lrtest:8443"
    assert host_header(urlsplit("https://user@good.lrtest/")) == "good.lrtest"
