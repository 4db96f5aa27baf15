"""Profiles by name (settings), scoring and the per-family runner."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.checks.engine import Target, run_family, scoring
from apps.checks.engine.findings import Finding
from apps.checks.engine.registry import REGISTRY, load_families
from apps.checks.profiles import get_profile


def test_internet_profile_comes_from_settings(settings):
    settings.LAUNCHREADY_NETWORK = {"nameservers": ["9.9.9.9"], "ca_bundle": "", "port_map": "",
                                    "allowed_networks": []}
    profile = get_profile("internet")
    assert profile.nameservers == (("9.9.9.9", 53),)
    assert profile.allowed_networks == ()
    assert profile.ca_bundle is None


def test_testworld_profile_reads_the_state_file(settings, testworld, tmp_path):
    settings.TESTWORLD_STATE_FILE = tmp_path / "testworld.json"
    with pytest.raises(ImproperlyConfigured, match="manage.py testworld"):
        get_profile("testworld")
    testworld.write_state(settings.TESTWORLD_STATE_FILE)
    profile = get_profile("testworld")
    assert profile.nameservers == (("127.0.0.1", testworld.dns_port),)
    assert profile.port_map == {80: testworld.http_port, 443: testworld.https_port}
    assert [str(n) for n in profile.allowed_networks] == ["127.0.0.0/8"]


def test_unknown_profile_is_refused():
    with pytest.raises(ImproperlyConfigured, match="unknown network profile"):
        get_profile("user-supplied")


def test_every_registered_check_is_in_the_catalogue_with_a_severity():
    load_families()
    stage_1_to_3 = {"audit.resolves", "audit.localhost_refs", "audit.slow_routes", "dns.records", "dns.dangling",
                    "tls.certificate", "tls.protocols", "http.https_redirect", "http.canonical", "http.hsts",
                    "http.security_headers", "http.mixed_content", "edge.cdn", "edge.caching", "edge.reachable"}
    assert stage_1_to_3 <= set(REGISTRY)
    for check_id, spec in REGISTRY.items():
        assert scoring.CHECK_SEVERITY[check_id] in scoring.SEVERITY_WEIGHT
        # a family module is named after its id prefix, except the ones whose checks span stages
        assert spec.family == check_id.split(".")[0] or spec.family in {"audit", "repo", "envvars"}


def f(check, status, severity, target="x.test"):
    return Finding(check=check, target=target, status=status, severity=severity, summary=f"{check} {status}")


def test_score_grade_and_decision():
    assert scoring.score([f("http.hsts", "pass", "medium")]) == 100
    warn = [f("http.hsts", "warn", "medium")]
    assert scoring.score(warn) == 98  # 5 * 0.9 * 0.4 = 1.8
    assert scoring.decision(warn) == "go"
    blocker = [f("tls.certificate", "fail", "blocker"), f("http.hsts", "pass", "medium")]
    assert scoring.decision(blocker) == "no-go"
    assert scoring.score(blocker) <= scoring.BLOCKER_CAP
    assert scoring.grade_for(scoring.score(blocker)) == "F"
    # one check failing on many hosts counts once in the score
    many = [f("http.hsts", "fail", "medium", f"h{i}.test") for i in range(10)]
    assert scoring.score(many) == scoring.score(many[:1])


def test_risks_rank_by_severity_then_stage_then_affected_targets():
    findings = [
        f("edge.cdn", "warn", "low"),
        f("http.hsts", "fail", "medium", "a.test"),
        f("audit.slow_routes", "fail", "medium", "a.test"),
        f("http.security_headers", "fail", "medium", "a.test"),
        f("http.security_headers", "fail", "medium", "b.test"),
        f("tls.certificate", "fail", "blocker"),
        f("http.hsts", "pass", "medium", "b.test"),
    ]
    ranked = [(r["check"], r["affected"]) for r in scoring.risks(findings)]
    assert ranked == [("tls.certificate", 1), ("audit.slow_routes", 1), ("http.security_headers", 2),
                      ("http.hsts", 1), ("edge.cdn", 1)]


def test_run_family_runs_one_family_for_one_hostname(testworld):
    target = Target.build("good.lrtest", ["www", "app"])
    findings = run_family("tls", target, "app.good.lrtest", testworld.profile())
    assert {(x.check, x.target) for x in findings} == {("tls.certificate", "app.good.lrtest"),
                                                      ("tls.protocols", "app.good.lrtest")}
    # domain-wide checks run with the apex (or with no hostname), not with every hostname
    assert [x.check for x in run_family("http", target, "www.good.lrtest", testworld.profile())
            if x.check == "http.canonical"] == []
    apex = run_family("http", target, "good.lrtest", testworld.profile())
    assert [x.status for x in apex if x.check == "http.canonical"] == ["pass"]
