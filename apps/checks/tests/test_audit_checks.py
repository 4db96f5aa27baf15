"""audit.localhost_refs and audit.slow_routes (audit.resolves is with the DNS checks)."""

from apps.checks.tests.conftest import finding


def test_localhost_refs_pass_scans_page_and_scripts(scan):
    f = finding(scan("good.lrtest", only=["audit.localhost_refs"]), "audit.localhost_refs", "good.lrtest")
    assert f.status == "pass"
    assert f.evidence["scanned"] == ["https://good.lrtest/", "https://good.lrtest/static/app.3f9a1c2e.js"]


def test_localhost_refs_fail_in_page(scan):
    f = finding(scan("devrefs.lrtest", only=["audit.localhost_refs"]), "audit.localhost_refs", "devrefs.lrtest")
    assert f.status == "fail"
    assert f.evidence["matches"] == [{"url": "https://devrefs.lrtest/", "match": "http://localhost:3000"}]


def test_localhost_refs_fail_in_same_origin_bundle(scan):
    f = finding(scan("jsrefs.lrtest", only=["audit.localhost_refs"]), "audit.localhost_refs", "jsrefs.lrtest")
    assert f.status == "fail"
    assert f.evidence["matches"] == [{"url": "https://jsrefs.lrtest/static/app.3f9a1c2e.js",
                                      "match": "http://127.0.0.1:8000"}]


def test_localhost_refs_error_on_oversized_page(scan):
    f = finding(scan("huge.lrtest", only=["audit.localhost_refs"]), "audit.localhost_refs", "huge.lrtest")
    assert f.status == "error"
    assert f.evidence["error"] == "too_large"


def test_localhost_refs_skips_a_host_that_redirects_elsewhere(scan):
    f = finding(scan("good.lrtest", ["www"], only=["audit.localhost_refs"]), "audit.localhost_refs",
                "www.good.lrtest")
    assert f.status == "skipped"


def test_slow_routes_verdicts(scan):
    endpoints = [("health", "https://good.lrtest/health"), ("homepage", "https://good.lrtest/slow?s=0.25"),
                 ("login", "https://good.lrtest/slow?s=0.6"), ("checkout", "https://trickle.lrtest/")]
    result = scan("good.lrtest", only=["audit.slow_routes"], endpoints=endpoints,
                  options={"slow_warn_ms": 150, "slow_fail_ms": 500})
    health = finding(result, "audit.slow_routes", "https://good.lrtest/health")
    assert health.status == "pass"
    assert health.evidence["total_ms"] < 150
    slowish = finding(result, "audit.slow_routes", "https://good.lrtest/slow?s=0.25")
    assert slowish.status == "warn"
    assert 250 <= slowish.evidence["total_ms"] < 500
    slow = finding(result, "audit.slow_routes", "https://good.lrtest/slow?s=0.6")
    assert slow.status == "fail"
    assert slow.evidence["ttfb_ms"] >= 500
    trickle = finding(result, "audit.slow_routes", "https://trickle.lrtest/")
    assert trickle.status == "error"
    assert trickle.evidence["error"] == "request_timeout"


def test_slow_routes_defaults_to_the_homepage(scan):
    f = finding(scan("good.lrtest", only=["audit.slow_routes"]), "audit.slow_routes", "https://good.lrtest/")
    assert f.status == "pass"
    assert f.evidence["kind"] == "homepage"
