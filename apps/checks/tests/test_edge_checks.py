"""edge.cdn, edge.caching and edge.reachable against the test world."""

from apps.checks.tests.conftest import finding


def test_cdn_pass_behind_cloudflare_style_proxy(scan):
    f = finding(scan("good.lrtest", only=["edge.cdn"]), "edge.cdn", "good.lrtest")
    assert f.status == "pass"
    assert f.evidence["provider"] == "Cloudflare"
    assert {"header": "cf-ray", "value": "8c1f2a3b4c5d6e7f-AMS", "provider": "Cloudflare"} in f.evidence["signals"]


def test_cdn_detected_from_cname(scan):
    f = finding(scan("good.lrtest", ["docs"], only=["edge.cdn"]), "edge.cdn", "docs.good.lrtest")
    assert f.status == "pass"
    assert {"cname": "docs-good.cdn-edge.lrtest", "provider": "Test CDN"} in f.evidence["signals"]


def test_cdn_warn_on_bare_origin(scan):
    f = finding(scan("origin.lrtest", only=["edge.cdn"]), "edge.cdn", "origin.lrtest")
    assert f.status == "warn"
    assert f.evidence["signals"] == []
    assert f.evidence["server"] == "nginx/1.25"
    assert f.evidence["ip"] == "127.0.0.2"


def test_cdn_error_when_unreachable(scan):
    f = finding(scan("blackhole.lrtest", only=["edge.cdn"]), "edge.cdn", "blackhole.lrtest")
    assert f.status == "error"


def test_caching_pass(scan):
    f = finding(scan("good.lrtest", only=["edge.caching"]), "edge.caching", "good.lrtest")
    assert f.status == "pass"
    hashed = [a for a in f.evidence["assets"] if a["hashed"]]
    assert hashed and hashed[0]["immutable"] is True
    assert len(f.evidence["assets"]) == 3


def test_caching_warn_on_uncached_assets(scan):
    f = finding(scan("nocache.lrtest", only=["edge.caching"]), "edge.caching", "nocache.lrtest")
    assert f.status == "warn"
    assert all(a["problem"] == "not cacheable" for a in f.evidence["assets"])


def test_caching_fail_when_cookie_page_is_publicly_cached(scan):
    f = finding(scan("cookiecache.lrtest", only=["edge.caching"]), "edge.caching", "cookiecache.lrtest")
    assert f.status == "fail"
    assert f.severity == "high"
    assert f.evidence["page_sets_cookie"] is True
    assert f.evidence["page_cache_control"] == "public, max-age=600"


def test_caching_error_when_page_never_loads(scan):
    f = finding(scan("blackhole.lrtest", only=["edge.caching"]), "edge.caching", "blackhole.lrtest")
    assert f.status == "error"


def test_reachable_verdicts_per_url(scan):
    result = scan("good.lrtest", ["docs"], only=["edge.reachable"], endpoints=[
        ("health", "https://good.lrtest/health"), ("other", "https://good.lrtest/missing"),
        ("checkout", "https://good.lrtest/boom"), ("login", "https://good.lrtest/private"),
        ("other", "https://blackhole.lrtest/"), ("other", "https://docs.dead.lrtest/")])
    assert finding(result, "edge.reachable", "https://docs.good.lrtest/").status == "pass"
    health = finding(result, "edge.reachable", "https://good.lrtest/health")
    assert (health.status, health.evidence["final_status"]) == ("pass", 200)
    missing = finding(result, "edge.reachable", "https://good.lrtest/missing")
    assert (missing.status, missing.evidence["final_status"]) == ("fail", 404)
    boom = finding(result, "edge.reachable", "https://good.lrtest/boom")
    assert (boom.status, boom.evidence["final_status"]) == ("fail", 500)
    private = finding(result, "edge.reachable", "https://good.lrtest/private")
    assert (private.status, private.evidence["final_status"]) == ("warn", 401)
    hole = finding(result, "edge.reachable", "https://blackhole.lrtest/")
    assert (hole.status, hole.evidence["error"]) == ("error", "tls_timeout")


def test_reachable_fails_for_dead_docs_subdomain(scan):
    result = scan("dead.lrtest", ["docs"], only=["edge.reachable"])
    f = finding(result, "edge.reachable", "https://docs.dead.lrtest/")
    assert f.status == "fail"
    assert f.evidence["error"] == "connect_refused"
