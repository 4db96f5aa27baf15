"""tls.certificate and tls.protocols against test-world certificates and servers."""

import pytest

from apps.checks.tests.conftest import finding


def test_certificate_pass_reports_fields(scan):
    f = finding(scan("good.lrtest", only=["tls.certificate"]), "tls.certificate", "good.lrtest")
    assert f.status == "pass"
    ev = f.evidence
    assert ev["verified"] is True
    assert ev["issuer_cn"] == "Launch Ready Test Issuing CA"
    assert "good.lrtest" in ev["sans"]
    assert ev["key_type"] == "EC" and ev["key_bits"] == 256
    assert ev["days_left"] > 80
    assert ev["chain_length"] == 2


def test_certificate_warns_when_expiring_soon(scan):
    f = finding(scan("expiring.lrtest", only=["tls.certificate"]), "tls.certificate", "expiring.lrtest")
    assert f.status == "warn"
    assert 0 <= f.evidence["days_left"] < 14
    assert f.evidence["verified"] is True


@pytest.mark.parametrize("domain, words", [
    ("expired.lrtest", "expired on"),
    ("wronghost.lrtest", "issued for somewhere-else.lrtest, not wronghost.lrtest"),
    ("selfsigned.lrtest", "self-signed"),
    ("unknownca.lrtest", "unknown (untrusted) certificate authority"),
    ("incomplete.lrtest", "incomplete chain"),
    ("weakkey.lrtest", "weak key: RSA 1024 bits"),
])
def test_certificate_fails_and_says_why(scan, domain, words):
    f = finding(scan(domain, only=["tls.certificate"]), "tls.certificate", domain)
    assert f.status == "fail"
    assert f.severity == "blocker"
    assert f.evidence["verified"] is False
    assert f.evidence["verify_error"]
    assert any(words in p for p in f.evidence["problems"]), f.evidence["problems"]


def test_unknown_ca_names_the_issuer(scan):
    f = finding(scan("unknownca.lrtest", only=["tls.certificate"]), "tls.certificate", "unknownca.lrtest")
    assert "Unknown Root CA, an unknown (untrusted) certificate authority" in f.evidence["problems"][0]
    assert f.evidence["chain"] == ["good.lrtest", "Unknown Root CA"]


def test_expired_certificate_states_the_date(scan, testworld):
    f = finding(scan("expired.lrtest", only=["tls.certificate"]), "tls.certificate", "expired.lrtest")
    assert f.evidence["not_after"][:10] == testworld.ca.expired_not_after.date().isoformat()
    assert f.evidence["days_left"] < 0
    assert "expired on" in f.summary


def test_certificate_error_when_handshake_hangs(scan):
    f = finding(scan("blackhole.lrtest", only=["tls.certificate"]), "tls.certificate", "blackhole.lrtest")
    assert f.status == "error"
    assert f.evidence["error"] == "tls_timeout"


def test_protocols_pass_on_modern_server(scan):
    f = finding(scan("good.lrtest", only=["tls.protocols"]), "tls.protocols", "good.lrtest")
    assert f.status == "pass"
    assert f.evidence["accepted"] == {"TLSv1.0": False, "TLSv1.1": False, "TLSv1.2": True, "TLSv1.3": True}
    assert f.evidence["tls13"] is True


def test_protocols_warn_when_legacy_versions_accepted(scan):
    f = finding(scan("legacy.lrtest", only=["tls.protocols"]), "tls.protocols", "legacy.lrtest")
    assert f.status == "warn"
    assert f.evidence["accepted"]["TLSv1.0"] is True
    assert f.evidence["accepted"]["TLSv1.1"] is True
    assert f.evidence["accepted"]["TLSv1.3"] is True


def test_protocols_fail_without_tls12(scan):
    f = finding(scan("ancient.lrtest", only=["tls.protocols"]), "tls.protocols", "ancient.lrtest")
    assert f.status == "fail"
    assert f.evidence["accepted"]["TLSv1.2"] is False
    assert f.evidence["accepted"]["TLSv1.3"] is False


def test_protocols_error_when_nothing_answers(scan):
    f = finding(scan("docs.dead.lrtest", only=["tls.protocols"]), "tls.protocols", "docs.dead.lrtest")
    assert f.status == "error"
    assert f.evidence["error"] == "connect_refused"
