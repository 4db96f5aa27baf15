"""dns.records, dns.dangling and audit.resolves against the test world's DNS server."""

from apps.checks.tests.conftest import finding


def test_records_snapshot_passes_for_the_good_apex(scan):
    result = scan("good.lrtest", only=["dns.records"])
    f = finding(result, "dns.records", "good.lrtest")
    assert f.status == "pass"
    assert f.evidence["records"]["A"] == ["127.0.0.2"]
    assert f.evidence["records"]["CAA"] == ['0 issue "letsencrypt.org"']
    assert f.evidence["records"]["MX"] == ["10 mx.good.lrtest."]
    assert f.evidence["records"]["NS"] == ["ns1.lrtest."]


def test_records_warn_without_caa(scan):
    f = finding(scan("nocaa.lrtest", only=["dns.records"]), "dns.records", "nocaa.lrtest")
    assert f.status == "warn"
    assert f.severity == "low"
    assert f.evidence["records"]["CAA"] == []


def test_records_fail_on_apex_cname(scan):
    f = finding(scan("apexcname.lrtest", only=["dns.records"]), "dns.records", "apexcname.lrtest")
    assert f.status == "fail"
    assert f.evidence["records"]["CNAME"] == ["good.lrtest."]
    assert "apex" in f.summary


def test_records_fail_on_cname_next_to_other_records(scan):
    result = scan("good.lrtest", ["conflict"], only=["dns.records"])
    f = finding(result, "dns.records", "conflict.good.lrtest")
    assert f.status == "fail"
    assert f.evidence["conflicting_types"] == ["TXT"]


def test_records_error_on_servfail(scan):
    f = finding(scan("servfail.lrtest", only=["dns.records"]), "dns.records", "servfail.lrtest")
    assert f.status == "error"
    assert "SERVFAIL" in f.summary
    assert set(f.evidence["errors"]) == {"A", "AAAA", "CNAME", "NS", "CAA", "MX", "TXT"}


def test_dangling_pass_when_cname_target_resolves(scan):
    f = finding(scan("good.lrtest", ["www"], only=["dns.dangling"]), "dns.dangling", "www.good.lrtest")
    assert f.status == "pass"
    assert f.evidence["cname"] == "good.lrtest"
    assert f.evidence["addresses"] == ["127.0.0.2"]


def test_dangling_fails_when_cname_target_does_not_exist(scan):
    f = finding(scan("good.lrtest", ["blog"], only=["dns.dangling"]), "dns.dangling", "blog.good.lrtest")
    assert f.status == "fail"
    assert f.severity == "high"
    assert f.evidence["cname"] == "gone-app.herokuapp.com"
    assert f.evidence["rcode"] == "NXDOMAIN"


def test_dangling_warns_when_cname_target_has_no_address(scan):
    f = finding(scan("good.lrtest", ["shop"], only=["dns.dangling"]), "dns.dangling", "shop.good.lrtest")
    assert f.status == "warn"
    assert f.evidence["cname"] == "empty.lrtest"
    assert f.evidence["addresses"] == []


def test_dangling_error_when_cname_target_servfails(scan):
    f = finding(scan("good.lrtest", ["broken"], only=["dns.dangling"]), "dns.dangling", "broken.good.lrtest")
    assert f.status == "error"
    assert f.evidence["error"] == "dns_servfail"


def test_resolves_pass_follows_cnames(scan):
    result = scan("good.lrtest", ["www", "docs"], only=["audit.resolves"])
    assert finding(result, "audit.resolves", "good.lrtest").evidence["addresses"] == ["127.0.0.2"]
    docs = finding(result, "audit.resolves", "docs.good.lrtest")
    assert docs.status == "pass"
    assert docs.evidence["cname_chain"] == ["docs-good.cdn-edge.lrtest"]


def test_resolves_fail_for_missing_name(scan):
    result = scan("good.lrtest", ["missing"], only=["audit.resolves"])
    f = finding(result, "audit.resolves", "missing.good.lrtest")
    assert f.status == "fail"
    assert f.severity == "blocker"
    assert f.evidence["error"] == "nxdomain"
    assert result.decision == "no-go"


def test_resolves_warns_for_private_only_addresses(scan):
    f = finding(scan("ten.ssrf.lrtest", only=["audit.resolves"]), "audit.resolves", "ten.ssrf.lrtest")
    assert f.status == "warn"
    assert f.evidence["addresses"] == ["10.0.0.1"]
    assert "private" in f.evidence["refusals"]["10.0.0.1"]


def test_resolves_error_on_refused_and_timeout(scan, testworld):
    refused = finding(scan("refused.lrtest", only=["audit.resolves"]), "audit.resolves", "refused.lrtest")
    assert refused.status == "error"
    assert refused.evidence["error"] == "dns_refused"
    timed_out = finding(scan("timeout.lrtest", only=["audit.resolves"]), "audit.resolves", "timeout.lrtest")
    assert timed_out.status == "error"
    assert timed_out.evidence["error"] == "dns_timeout"
    assert timed_out.duration_ms < 2000


def test_each_name_is_resolved_once_per_scan(scan, testworld):
    before = testworld.dns_queries("app.good.lrtest", "A")
    result = scan("good.lrtest", ["app"])
    assert testworld.dns_queries("app.good.lrtest", "A") - before == 1
    assert result.dns_queries > 0
