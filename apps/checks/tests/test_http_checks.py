"""http.* checks against test-world sites: redirects, canonical host, HSTS, security headers, mixed content."""

from apps.checks.tests.conftest import finding


def run_one(scan, check, domain, hosts=()):
    return scan(domain, hosts, only=[check])


# --- http.https_redirect ---------------------------------------------------------------------------------------
def test_https_redirect_pass(scan):
    f = finding(run_one(scan, "http.https_redirect", "good.lrtest"), "http.https_redirect", "good.lrtest")
    assert f.status == "pass"
    assert f.evidence["status"] == 301
    assert f.evidence["location"] == "https://good.lrtest/"


def test_https_redirect_fail_when_http_serves_the_site(scan):
    f = finding(run_one(scan, "http.https_redirect", "noredirect.lrtest"), "http.https_redirect", "noredirect.lrtest")
    assert f.status == "fail"
    assert f.evidence["status"] == 200
    assert f.evidence["location"] is None


def test_https_redirect_warn_on_temporary_redirect(scan):
    f = finding(run_one(scan, "http.https_redirect", "tempredirect.lrtest"), "http.https_redirect",
                "tempredirect.lrtest")
    assert f.status == "warn"
    assert f.evidence["status"] == 302


def test_https_redirect_warn_when_port_80_is_closed(scan):
    f = finding(run_one(scan, "http.https_redirect", "docs.dead.lrtest"), "http.https_redirect", "docs.dead.lrtest")
    assert f.status == "warn"
    assert f.evidence["error"] == "connect_refused"


def test_https_redirect_error_when_server_never_answers(scan):
    f = finding(run_one(scan, "http.https_redirect", "blackhole.lrtest"), "http.https_redirect", "blackhole.lrtest")
    assert f.status == "error"
    assert f.evidence["error"] == "read_timeout"


# --- http.canonical --------------------------------------------------------------------------------------------
def test_canonical_pass_when_www_redirects_to_apex(scan):
    f = finding(run_one(scan, "http.canonical", "good.lrtest", ["www"]), "http.canonical", "good.lrtest")
    assert f.status == "pass"
    assert f.evidence["canonical"] == "good.lrtest"
    assert f.evidence["redirects"] == [0, 1]


def test_canonical_fail_when_both_serve(scan):
    f = finding(run_one(scan, "http.canonical", "both.lrtest", ["www"]), "http.canonical", "both.lrtest")
    assert f.status == "fail"
    assert f.evidence["redirects"] == [0, 0]
    assert f.evidence["final_hosts"] == ["both.lrtest", "www.both.lrtest"]


def test_canonical_fail_on_redirect_loop(scan):
    f = finding(run_one(scan, "http.canonical", "loop.lrtest", ["www"]), "http.canonical", "loop.lrtest")
    assert f.status == "fail"
    assert f.evidence["apex"]["loop"] is True
    assert [h["url"] for h in f.evidence["apex"]["hops"]] == ["https://loop.lrtest/", "https://www.loop.lrtest/"]


def test_canonical_warn_on_long_chain(scan):
    f = finding(run_one(scan, "http.canonical", "chain.lrtest", ["www"]), "http.canonical", "chain.lrtest")
    assert f.status == "warn"
    assert f.evidence["redirects"] == [0, 4]
    assert f.evidence["canonical"] == "chain.lrtest"


def test_canonical_error_when_one_name_never_answers(scan):
    f = finding(run_one(scan, "http.canonical", "halfdead.lrtest", ["www"]), "http.canonical", "halfdead.lrtest")
    assert f.status == "error"
    assert f.evidence["www"]["error"] == "tls_timeout"


def test_canonical_skipped_without_www(scan):
    f = finding(run_one(scan, "http.canonical", "good.lrtest"), "http.canonical", "good.lrtest")
    assert f.status == "skipped"


def test_hop_cap_ends_a_long_chain(scan, testworld):
    result = scan("chain.lrtest", ["www"], only=["http.canonical"], profile=testworld.profile(max_redirects=2))
    f = finding(result, "http.canonical", "chain.lrtest")
    assert f.status == "fail"
    assert f.evidence["www"]["hop_cap_reached"] is True


# --- http.hsts -------------------------------------------------------------------------------------------------
def test_hsts_pass(scan):
    f = finding(run_one(scan, "http.hsts", "good.lrtest"), "http.hsts", "good.lrtest")
    assert f.status == "pass"
    assert f.evidence["max_age"] == 31536000
    assert f.evidence["include_subdomains"] is True
    assert f.evidence["preload"] is False


def test_hsts_fail_when_missing(scan):
    f = finding(run_one(scan, "http.hsts", "nohsts.lrtest"), "http.hsts", "nohsts.lrtest")
    assert f.status == "fail"
    assert f.evidence["header"] is None


def test_hsts_warn_when_short(scan):
    f = finding(run_one(scan, "http.hsts", "shorthsts.lrtest"), "http.hsts", "shorthsts.lrtest")
    assert f.status == "warn"
    assert f.evidence["max_age"] == 86400


def test_hsts_error_on_bad_certificate(scan):
    f = finding(run_one(scan, "http.hsts", "expired.lrtest"), "http.hsts", "expired.lrtest")
    assert f.status == "error"
    assert f.evidence["error"] == "tls_verify"


# --- http.security_headers -------------------------------------------------------------------------------------
def test_security_headers_pass(scan):
    f = finding(run_one(scan, "http.security_headers", "good.lrtest"), "http.security_headers", "good.lrtest")
    assert f.status == "pass"
    assert f.evidence["missing"] == []


def test_security_headers_fail_when_all_missing(scan):
    f = finding(run_one(scan, "http.security_headers", "bare.lrtest"), "http.security_headers", "bare.lrtest")
    assert f.status == "fail"
    assert f.evidence["missing"] == ["content-security-policy", "x-content-type-options", "frame-ancestors",
                                     "referrer-policy"]


def test_security_headers_warn_when_one_missing(scan):
    f = finding(run_one(scan, "http.security_headers", "partial.lrtest"), "http.security_headers", "partial.lrtest")
    assert f.status == "warn"
    assert f.evidence["missing"] == ["referrer-policy"]


def test_security_headers_error_when_server_never_answers(scan):
    f = finding(run_one(scan, "http.security_headers", "blackhole.lrtest"), "http.security_headers",
                "blackhole.lrtest")
    assert f.status == "error"
    assert f.evidence["error"] == "tls_timeout"


# --- http.mixed_content ----------------------------------------------------------------------------------------
def test_mixed_content_pass(scan):
    f = finding(run_one(scan, "http.mixed_content", "good.lrtest"), "http.mixed_content", "good.lrtest")
    assert f.status == "pass"
    assert f.evidence["insecure"] == []


def test_mixed_content_fail_on_active_content(scan):
    f = finding(run_one(scan, "http.mixed_content", "mixed.lrtest"), "http.mixed_content", "mixed.lrtest")
    assert f.status == "fail"
    assert f.evidence["active"] == 1
    assert f.evidence["insecure"][0]["url"] == "http://cdn.mixed.lrtest/app.js"
    assert f.evidence["insecure"][0]["tag"] == "script"


def test_mixed_content_warn_on_passive_content(scan):
    f = finding(run_one(scan, "http.mixed_content", "passive.lrtest"), "http.mixed_content", "passive.lrtest")
    assert f.status == "warn"
    assert f.evidence["passive"] == 1
    assert f.evidence["insecure"][0]["tag"] == "img"


def test_mixed_content_error_on_oversized_page(scan):
    f = finding(run_one(scan, "http.mixed_content", "huge.lrtest"), "http.mixed_content", "huge.lrtest")
    assert f.status == "error"
    assert f.evidence["error"] == "too_large"
