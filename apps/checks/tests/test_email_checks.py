"""Email checks against the test world's email corpus: one domain per verdict, status and `reasons` asserted."""

import pytest

from apps.checks.engine import Target, run_scan
from tests.testworld.email_zones import EMAIL_CASES, GOOD


@pytest.fixture
def email_scan(testworld):
    def run(domain, check, **target_fields):
        fields = {**EMAIL_CASES.get(domain, {}), **target_fields}
        result = run_scan(Target.build(domain, **fields), testworld.profile(), [check])
        assert len(result.findings) == 1, result.findings
        return result.findings[0]

    return run


# (domain, target fields, status, reasons) for every verdict of the issue.
MX_CASES = [
    (GOOD, "pass", ["mx-ok"]),
    ("null-mx.lrtest", "pass", ["null-mx"]),
    ("null-mx-mixed.lrtest", "fail", ["null-mx-mixed"]),
    ("null-mx-pref.lrtest", "fail", ["invalid-null-mx"]),
    ("no-mx.lrtest", "warn", ["no-mx"]),
    ("no-mx-no-a.lrtest", "warn", ["no-address", "no-mx"]),
    ("mx-unresolvable.lrtest", "fail", ["unresolvable"]),
    ("mx-noaddress.lrtest", "fail", ["unresolvable"]),
    ("mx-ip.lrtest", "fail", ["ip-literal"]),
    ("mx-cname.lrtest", "warn", ["cname-target"]),
    ("gone-entirely.lrtest", "fail", ["nxdomain"]),
]

SPF_CASES = [
    (GOOD, "pass", ["fail-all"]),
    ("spf-softfail.lrtest", "pass", ["softfail-all"]),
    ("spf-redirect.lrtest", "pass", ["fail-all"]),
    ("spf-ten.lrtest", "pass", ["fail-all"]),
    ("spf-twovoid.lrtest", "pass", ["fail-all"]),
    ("spf-macro.lrtest", "pass", ["fail-all"]),
    ("spf-none.lrtest", "fail", ["no-record"]),
    ("spf-multiple.lrtest", "fail", ["multiple-records"]),
    ("spf-syntax.lrtest", "fail", ["syntax-error"]),
    ("spf-unknown-mech.lrtest", "fail", ["syntax-error"]),
    ("spf-double-redirect.lrtest", "fail", ["syntax-error"]),
    ("spf-toomany.lrtest", "fail", ["lookup-limit"]),
    ("spf-void.lrtest", "fail", ["void-lookups"]),
    ("spf-include-missing.lrtest", "fail", ["include-no-spf"]),
    ("spf-redirect-missing.lrtest", "fail", ["redirect-no-spf"]),
    ("spf-loop.lrtest", "fail", ["loop"]),
    ("spf-plusall.lrtest", "fail", ["plus-all"]),
    ("spf-bareall.lrtest", "fail", ["plus-all"]),
    ("spf-include-open.lrtest", "fail", ["plus-all"]),
    ("spf-mxlimit.lrtest", "fail", ["mx-limit"]),
    ("spf-neutral.lrtest", "warn", ["neutral-all"]),
    ("spf-ptr.lrtest", "warn", ["ptr"]),
    ("spf-noall.lrtest", "warn", ["missing-all"]),
    ("spf-unapproved.lrtest", "warn", ["unapproved-include"]),
]

DKIM_CASES = [
    (GOOD, "pass", ["key-ok"]),
    ("dkim-cname.lrtest", "pass", ["key-ok"]),
    ("dkim-short.lrtest", "warn", ["short-key"]),
    ("dkim-testing.lrtest", "warn", ["testing"]),
    ("dkim-weak.lrtest", "fail", ["weak-key"]),
    ("dkim-revoked.lrtest", "fail", ["revoked"]),
    ("dkim-missing.lrtest", "fail", ["no-record"]),
    ("dkim-badkey.lrtest", "fail", ["bad-key"]),
    ("dkim-badversion.lrtest", "fail", ["bad-version"]),
    ("dkim-sha1.lrtest", "fail", ["sha1-only"]),
    ("dkim-mismatch.lrtest", "fail", ["bad-key"]),
    ("null-mx.lrtest", "skipped", ["null-mx"]),
    ("no-mx.lrtest", "skipped", ["no-selectors"]),
]

DMARC_CASES = [
    (GOOD, "pass", ["policy-reject"]),
    ("dmarc-ext-ok.lrtest", "pass", ["policy-quarantine"]),
    ("dmarc-none.lrtest", "pass", ["monitoring"]),
    ("sub.dmarc-org.lrtest", "pass", ["org-domain-fallback", "policy-quarantine"]),
    ("dmarc-none-norua.lrtest", "warn", ["monitoring", "no-rua"]),
    ("dmarc-unknown.lrtest", "warn", ["unknown-tags"]),
    ("dmarc-pct.lrtest", "warn", ["pct-below-100"]),
    ("dmarc-ext-bad.lrtest", "warn", ["external-rua-unauthorized", "external-ruf-unauthorized"]),
    ("dmarc-nop.lrtest", "warn", ["missing-p", "monitoring"]),
    ("dmarc-badvalue.lrtest", "warn", ["invalid-tag-value"]),
    ("dmarc-multiple.lrtest", "fail", ["multiple-records"]),
    ("dmarc-notfirst.lrtest", "fail", ["version-not-first"]),
    ("dmarc-badp.lrtest", "fail", ["invalid-p"]),
    ("dmarc-absent.lrtest", "fail", ["no-record"]),
    ("dmarc-spf-only.lrtest", "fail", ["no-record"]),
    ("dmarc-badsp.lrtest", "fail", ["invalid-sp"]),
    ("dmarc-lowercase.lrtest", "fail", ["invalid-version"]),
    ("dmarc-duplicate.lrtest", "fail", ["syntax-error"]),
    ("dmarc-https.lrtest", "warn", ["unsupported-uri"]),
]

TLS_RPT_CASES = [
    (GOOD, "pass", ["valid"]),
    ("no-mx.lrtest", "warn", ["no-record"]),
    ("tlsrpt-bad.lrtest", "fail", ["invalid-record"]),
    ("tlsrpt-multiple.lrtest", "fail", ["multiple-records"]),
    ("null-mx.lrtest", "skipped", ["null-mx"]),
]

MTA_STS_CASES = [
    (GOOD, "pass", ["mode-enforce"]),
    ("sts-testing.lrtest", "warn", ["mode-testing"]),
    ("sts-mismatch.lrtest", "warn", ["mx-mismatch"]),
    ("no-mx.lrtest", "warn", ["no-record"]),
    ("sts-nopolicy.lrtest", "fail", ["policy-unreachable"]),
    ("sts-badpolicy.lrtest", "fail", ["invalid-policy"]),
    ("sts-none.lrtest", "warn", ["mode-none"]),
    ("sts-multiple.lrtest", "fail", ["multiple-records"]),
    ("sts-badid.lrtest", "fail", ["invalid-record"]),
    ("null-mx.lrtest", "skipped", ["null-mx"]),
]

ALL_CASES = ([("email.mx", *c) for c in MX_CASES] + [("email.spf", *c) for c in SPF_CASES]
             + [("email.dkim", *c) for c in DKIM_CASES] + [("email.dmarc", *c) for c in DMARC_CASES]
             + [("email.tls_rpt", *c) for c in TLS_RPT_CASES] + [("email.mta_sts", *c) for c in MTA_STS_CASES])


@pytest.mark.parametrize(("check", "domain", "status", "reasons"), ALL_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in ALL_CASES])
def test_verdict(email_scan, check, domain, status, reasons):
    f = email_scan(domain, check)
    assert (f.status, f.evidence["reasons"]) == (status, sorted(reasons)), f.summary
    assert f.target == domain
    assert "record" in f.evidence or check == "email.mx" or status == "skipped"


def test_corpus_covers_at_least_thirty_domains():
    covered = {c[1] for c in ALL_CASES}
    assert len(covered) >= 30
    assert covered - {"gone-entirely.lrtest"} <= set(EMAIL_CASES)


# --- evidence ---------------------------------------------------------------------------------------------------


def test_spf_evidence_has_the_tree_with_lookup_counts_and_authorized_ranges(email_scan):
    f = email_scan(GOOD, "email.spf")
    ev = f.evidence
    assert ev["record"] == "v=spf1 ip4:192.0.2.0/24 mx include:_spf.sender-esp.lrtest -all"
    assert ev["lookups"] == 3  # mx, include, and the include nested in the provider's record
    tree = ev["tree"]
    assert tree["domain"] == GOOD and tree["lookups"] == 2
    esp = next(c for c in tree["children"] if c.get("via") == "include")
    assert esp["domain"] == "_spf.sender-esp.lrtest"
    assert esp["children"][0]["domain"] == "_net.sender-esp.lrtest"
    assert ev["authorized"] == ["192.0.2.0/24", "127.0.0.2/32", "::1/128", "203.0.113.0/25", "2001:db8::/32"]
    assert ev["approved_senders"] == ["sender-esp.lrtest"]


def test_spf_lookup_limit_counts_nested_terms(email_scan):
    assert email_scan("spf-ten.lrtest", "email.spf").evidence["lookups"] == 10
    over = email_scan("spf-toomany.lrtest", "email.spf")
    assert over.evidence["lookups"] == 11
    assert over.evidence["tree"]["children"][0]["lookups"] == 3


def test_spf_void_lookups_counted(email_scan):
    assert email_scan("spf-void.lrtest", "email.spf").evidence["void_lookups"] == 3
    assert email_scan("spf-twovoid.lrtest", "email.spf").evidence["void_lookups"] == 2


def test_spf_unapproved_include_is_named_and_nested_provider_includes_are_not(email_scan):
    f = email_scan("spf-unapproved.lrtest", "email.spf")
    assert f.evidence["unapproved_includes"] == ["_spf.other-esp.lrtest"]
    assert "_spf.other-esp.lrtest" in f.summary
    approved = email_scan("spf-unapproved.lrtest", "email.spf",
                          spf_senders=["sender-esp.lrtest", "include:_spf.other-esp.lrtest"])
    assert approved.status == "pass"


def test_spf_redirect_takes_the_target_all(email_scan):
    f = email_scan("spf-redirect.lrtest", "email.spf")
    assert f.evidence["all"] == "-"
    assert f.evidence["tree"]["children"][0]["via"] == "redirect"
    assert f.evidence["authorized"] == ["198.51.100.0/24"]


def test_spf_multiple_records_evidence_lists_both(email_scan):
    f = email_scan("spf-multiple.lrtest", "email.spf")
    assert sorted(f.evidence["record"]) == ["v=spf1 include:_spf.sender-esp.lrtest -all", "v=spf1 ip4:192.0.2.1 -all"]


def test_spf_loop_names_the_path(email_scan):
    f = email_scan("spf-loop.lrtest", "email.spf")
    assert "spf-loop.lrtest -> _a.spf-loop.lrtest -> spf-loop.lrtest" in f.summary


def test_dkim_cname_delegation_is_in_evidence(email_scan):
    f = email_scan("dkim-cname.lrtest", "email.dkim")
    s1 = f.evidence["selectors"]["s1"]
    assert s1["cname_chain"] == ["s1._domainkey.esp-dkim.lrtest"]
    assert s1["key_bits"] == 2048


def test_dkim_reports_each_selector(email_scan):
    f = email_scan(GOOD, "email.dkim")
    assert f.evidence["selectors"]["s2048"]["key_bits"] == 2048
    assert f.evidence["selectors"]["ed"]["key_type"] == "ed25519"
    assert f.evidence["record"]["ed"].startswith("v=DKIM1; k=ed25519; p=")
    mixed = email_scan(GOOD, "email.dkim", dkim_selectors=["s2048", "missing"])
    assert mixed.status == "fail"
    assert mixed.evidence["selectors"]["missing"]["reasons"] == ["no-record"]


def test_dkim_without_selectors_is_skipped_with_advice(email_scan):
    f = email_scan("no-mx.lrtest", "email.dkim")
    assert f.status == "skipped"
    assert "selector" in f.remediation


def test_dmarc_org_fallback_says_where_the_policy_came_from(email_scan):
    f = email_scan("sub.dmarc-org.lrtest", "email.dmarc")
    ev = f.evidence
    assert ev["policy_source"] == "organizational"
    assert ev["org_domain"] == "dmarc-org.lrtest"
    assert ev["applied_via"] == "sp"
    assert ev["policy"] == "quarantine"
    assert ev["record"] == "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@dmarc-org.lrtest"


def test_dmarc_external_authorization_evidence(email_scan):
    assert email_scan("dmarc-ext-ok.lrtest", "email.dmarc").evidence["external_authorization"] == {
        "reports-ok.lrtest": True}
    bad = email_scan("dmarc-ext-bad.lrtest", "email.dmarc")
    assert bad.evidence["external_authorization"] == {"reports-none.lrtest": False}
    assert "dmarc-ext-bad.lrtest._report._dmarc.reports-none.lrtest" in bad.summary


def test_dmarc_monitoring_mode_passes_with_advice(email_scan):
    f = email_scan("dmarc-none.lrtest", "email.dmarc")
    assert f.status == "pass"
    assert "quarantine" in f.remediation


def test_unicode_domains_are_checked_as_a_labels(email_scan):
    spf = email_scan("bücher-post.lrtest", "email.spf")
    assert (spf.status, spf.target) == ("pass", "xn--bcher-post-9db.lrtest")
    dmarc = email_scan("BÜCHER-post.lrtest", "email.dmarc")
    assert (dmarc.status, dmarc.evidence["policy_domain"]) == ("pass", "xn--bcher-post-9db.lrtest")


def test_mta_sts_policy_evidence(email_scan):
    f = email_scan(GOOD, "email.mta_sts")
    assert f.evidence["policy"]["mx"] == [f"*.{GOOD}"]
    assert f.evidence["policy_url"] == f"https://mta-sts.{GOOD}/.well-known/mta-sts.txt"
    assert f.severity == "info"


def test_only_email_runs_the_email_checks_alone(testworld):
    result = run_scan(Target.build(GOOD, **EMAIL_CASES[GOOD]), testworld.profile(), ["email"])
    assert sorted(f.check for f in result.findings) == ["email.dkim", "email.dmarc", "email.mta_sts", "email.mx",
                                                         "email.spf", "email.tls_rpt"]
    assert all(f.status == "pass" for f in result.findings)


def test_no_redundant_dns_queries(testworld):
    before = dict(testworld.dns.queries)
    run_scan(Target.build(GOOD, **EMAIL_CASES[GOOD]), testworld.profile(), ["email"])
    after = testworld.dns.queries
    asked = {k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0)}
    assert asked and max(asked.values()) == 1, asked
    assert asked[(GOOD, "MX")] == 1


@pytest.mark.parametrize("check", ["email.mx", "email.spf", "email.dkim", "email.dmarc", "email.tls_rpt",
                                   "email.mta_sts"])
def test_dns_failure_is_an_error_with_reasons(email_scan, check):
    f = email_scan("dns-broken.lrtest", check)
    assert (f.status, f.evidence["reasons"]) == ("error", ["dns-error"])


def test_every_asserted_reason_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "email-checks.md").read_text()
    asserted = {reason for case in ALL_CASES for reason in case[3]} | {"dns-error"}
    assert {r for r in asserted if f"`{r}`" not in doc} == set()


def test_dkim_selector_written_with_domainkey_suffix(email_scan):
    f = email_scan("dkim-short.lrtest", "email.dkim", dkim_selectors=["S1._domainkey"])
    assert list(f.evidence["selectors"]) == ["s1"]
