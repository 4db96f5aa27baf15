"""perf.latency through the runner, every verdict, against the test world (operator-vouched runs)."""

import json

import pytest
from django.core.management import CommandError, call_command

from apps.checks.engine import Target, run_scan
from apps.checks.engine.perf import verdict
from apps.checks.tests.helpers import skip_if_machine_too_busy


@pytest.fixture
def latency(testworld):
    """latency(domain, homepage_url=None, rate=.., duration=.., **options) -> the perf.latency findings."""

    def run(domain, url=None, *, rate=20, duration=0.5, profile=None, **options):
        endpoints = [("homepage", url)] if url else []
        target = Target.build(domain, (), endpoints,
                              options={"operator_vouches": True, "rate": rate, "duration": duration, **options})
        result = run_scan(target, profile or testworld.profile(), ["perf.latency"], include_active=True)
        return skip_if_machine_too_busy([f for f in result.findings if f.check == "perf.latency"])

    return run


def only(findings):
    assert len(findings) == 1, findings
    return findings[0]


def test_fast_endpoint_passes_with_every_figure_in_the_evidence(latency):
    f = only(latency("perf.lrtest", "https://perf.lrtest/fast"))
    assert f.status == "pass", f.summary
    assert f.target == "https://perf.lrtest/fast"
    ev = f.evidence
    for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms", "error_rate", "errors", "planned_rate", "achieved_rate",
                "generator_lag", "samples", "cold", "warm", "first_request_ms", "limits", "inconclusive"):
        assert key in ev
    assert ev["samples"] == 10 and ev["planned_rate"] == 20
    assert "95% of requests answered within" in f.summary


def test_the_apex_homepage_is_the_default_url(latency):
    f = only(latency("perf.lrtest"))
    assert f.target == "https://perf.lrtest/"
    assert f.status == "fail" and f.evidence["errors"] == {"http_4xx": 10}  # perf.lrtest has no page at /


def test_p95_between_500_and_1000_ms_warns(latency):
    f = only(latency("perf.lrtest", "https://perf.lrtest/steady?ms=650", rate=10, duration=0.4))
    assert f.status == "warn", f.summary
    assert f.severity == "high"
    assert "500 ms budget" in f.summary


def test_p95_over_1000_ms_fails(latency):
    f = only(latency("perf.lrtest", "https://perf.lrtest/steady?ms=1100", rate=10, duration=0.4))
    assert f.status == "fail", f.summary
    assert "1000 ms limit" in f.summary


def test_one_percent_errors_fail_even_when_fast(latency):
    f = only(latency("perf.lrtest", "https://perf.lrtest/boom"))
    assert f.status == "fail"
    assert f.evidence["errors"] == {"http_5xx": 10}
    assert "100.0% of requests failed" in f.summary


def test_a_dead_endpoint_is_an_error_before_any_load(latency, testworld):
    f = only(latency("dead.lrtest", "https://docs.dead.lrtest/"))
    assert f.status == "error"
    assert f.evidence["error"] == "connect_refused"


def test_redirects_are_followed_on_the_domain(latency):
    f = only(latency("www-file.lrtest", "https://www-file.lrtest/"))
    assert f.evidence["url"] == "https://www.www-file.lrtest/"
    assert f.evidence["redirected_from"] == "https://www-file.lrtest/"
    assert f.status == "pass"


def test_load_never_follows_a_redirect_off_the_verified_domain(latency, testworld):
    before = testworld.connections["127.0.0.2"]
    f = only(latency("offsite-file.lrtest", "https://offsite-file.lrtest/", rate=50, duration=1))
    assert f.status == "skipped"
    assert "outside offsite-file.lrtest" in f.summary
    assert testworld.connections["127.0.0.2"] - before <= 3  # the preflight walk only, no load


def test_a_declared_url_off_the_domain_gets_no_traffic(latency, testworld):
    before = testworld.connections["127.0.0.2"]
    f = only(latency("perf.lrtest", "https://good.lrtest/"))
    assert f.status == "skipped"
    assert "not on perf.lrtest" in f.summary
    assert testworld.connections["127.0.0.2"] == before


def test_the_check_gets_the_time_its_plan_needs_beyond_the_profile_check_timeout(latency, testworld):
    f = only(latency("perf.lrtest", "https://perf.lrtest/fast", rate=10, duration=1.5,
                     profile=testworld.profile(check_timeout=1.0)))
    assert f.status == "pass", f.summary
    assert f.evidence["samples"] == 15


def test_inconclusive_figures_give_an_error_not_a_verdict():
    evidence = {"inconclusive": True, "inconclusive_reasons": ["the generator started requests 12 ms late at p95"],
                "p95_ms": 30.0, "planned_rate": 100, "duration_s": 10, "error_rate": 0.0, "errors": {}}
    status, summary, remediation = verdict(evidence)
    assert status == "error"
    assert summary.startswith("Inconclusive: the generator started requests 12 ms late")
    assert "lower --rate" in remediation


def test_scan_cli_active_runs_the_probe_with_rate_and_duration(testworld, settings, capsys):
    state = testworld.state()
    settings.LAUNCHREADY_NETWORK = {key: state[key] for key in ("nameservers", "ca_bundle", "port_map",
                                                                "allowed_networks")}
    call_command("scan", "perf.lrtest", "--active", "--only", "perf.latency", "--endpoint",
                 "homepage=https://perf.lrtest/fast", "--rate", "10", "--duration", "0.5", "--json")
    out = json.loads(capsys.readouterr().out)
    f = only([f for f in out["findings"] if f["check"] == "perf.latency"])
    assert f["status"] == "pass"
    assert f["evidence"]["planned_rate"] == 10 and f["evidence"]["samples"] == 5


def test_scan_cli_without_active_does_not_load(testworld, settings, capsys):
    state = testworld.state()
    settings.LAUNCHREADY_NETWORK = {key: state[key] for key in ("nameservers", "ca_bundle", "port_map",
                                                                "allowed_networks")}
    # Refused before any probe (exit 2), not an empty scan that scores 100 and says GO.
    with pytest.raises(CommandError) as exc:
        call_command("scan", "perf.lrtest", "--only", "perf.latency", "--rate", "10", "--json")
    assert exc.value.returncode == 2 and "need --active" in str(exc.value)
    assert capsys.readouterr().out == ""

