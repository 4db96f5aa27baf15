"""The record parsers behind the email checks, fed the RFCs' corner cases directly; and the scan CLI's --only email."""

import io
import json

import pytest
from django.core.management import call_command

from apps.checks.engine.email import (
    SpfSyntaxError,
    TagListError,
    dmarc_candidates,
    evaluate_dkim_record,
    mx_matches,
    parse_dmarc_uri,
    parse_spf,
    parse_sts_policy,
    parse_tag_list,
)
from tests.testworld import email_keys as keys


@pytest.mark.parametrize("record", [
    "v=spf1",
    "v=spf1 -all",
    "V=SPF1 IP4:192.0.2.0/24 -ALL",
    "v=spf1 a mx a:mail.example.com/24//64 mx/26 -all",
    "v=spf1 ip6:2001:db8::/32 ip4:192.0.2.1 ~all",
    "v=spf1 include:_spf.example.com -include:bad.example.com ?all",
    "v=spf1 exists:%{i}.%{l1r+-}._spf.%{d} -all",
    "v=spf1 redirect=_spf.example.com",
    "v=spf1 -all exp=explain._spf.%{d}",
    "v=spf1 unknown-mod=anything -all",
    "v=spf1  ip4:192.0.2.1   -all  ",
    "v=spf1 ptr:example.com -all",
    "v=spf1 include:example.com. -all",
])
def test_valid_spf_syntax(record):
    assert isinstance(parse_spf(record), list)


@pytest.mark.parametrize("record", [
    "v=spf1 ip4:192.0.2.0/33 -all",
    "v=spf1 ip4:192.0.2.0/024 -all",
    "v=spf1 ip6:2001:db8::/129 -all",
    "v=spf1 ip4:2001:db8:: -all",
    "v=spf1 ip6:192.0.2.1 -all",
    "v=spf1 include -all",
    "v=spf1 include:localhost -all",
    "v=spf1 include:example.123 -all",
    "v=spf1 all:foo",
    "v=spf1 foo:bar -all",
    "v=spf1 redirect=a.example redirect=b.example",
    "v=spf1 exp=a.example exp=b.example -all",
    "v=spf1 a:exa%mple.com -all",
    "v=spf1 exists:%{c}.example.com -all",
    "v=spf1 a/40 -all",
    "v=spf1 *all",
    "v=spf1 ip4:192.0.2.1 —all",
    "spf1 -all",
])
def test_invalid_spf_syntax(record):
    with pytest.raises(SpfSyntaxError):
        parse_spf(record)


def test_spf_terms_keep_qualifiers_and_networks():
    terms = parse_spf("v=spf1 ip4:192.0.2.77/24 ~mx:mail.example.com//64 -all")
    assert terms[0].network == "192.0.2.0/24"
    assert (terms[1].qualifier, terms[1].name, terms[1].domain, terms[1].cidr6) == ("~", "mx", "mail.example.com", 64)
    assert (terms[2].qualifier, terms[2].name) == ("-", "all")


def test_tag_list():
    assert parse_tag_list("v=DKIM1; k=rsa;\tp=AB CD ;") == [("v", "DKIM1"), ("k", "rsa"), ("p", "AB CD")]
    for bad in ("v=DKIM1; v=DKIM1", "v=DKIM1;; p=x", "novalue; p=x", "1v=x"):
        with pytest.raises(TagListError):
            parse_tag_list(bad)


@pytest.mark.parametrize(("record", "status", "reasons"), [
    (f"v=DKIM1; k=rsa; p={keys.RSA2048_PUBLIC}", "pass", []),
    (f"p={keys.RSA2048_PUBLIC}", "pass", []),  # v= and k= are optional
    (f"v=DKIM1; p={keys.RSA2048_PUBLIC[:100]} {keys.RSA2048_PUBLIC[100:]}", "pass", []),  # whitespace in p=
    (f"v=DKIM1; h=sha1:sha256; p={keys.RSA2048_PUBLIC}", "pass", []),
    (f"v=DKIM1; s=email; t=s; p={keys.RSA2048_PUBLIC}", "pass", []),
    (f"v=DKIM1; k=ed25519; p={keys.ED25519_PUBLIC}", "pass", []),
    (f"v=DKIM1; p={keys.RSA1024_PUBLIC}", "warn", ["short-key"]),
    (f"v=DKIM1; t=y:s; p={keys.RSA2048_PUBLIC}", "warn", ["testing"]),
    (f"v=DKIM1; p={keys.RSA512_PUBLIC}", "fail", ["weak-key"]),
    ("v=DKIM1; p=", "fail", ["revoked"]),
    ("v=DKIM1; k=rsa", "fail", ["missing-key"]),
    (f"v=DKIM2; p={keys.RSA2048_PUBLIC}", "fail", ["bad-version"]),
    (f"v=DKIM1; k=dsa; p={keys.RSA2048_PUBLIC}", "fail", ["unknown-key-type"]),
    (f"v=DKIM1; s=tlsrpt; p={keys.RSA2048_PUBLIC}", "fail", ["not-for-email"]),
    (f"v=DKIM1; k=ed25519; p={keys.RSA2048_PUBLIC}", "fail", ["bad-key"]),
    (f"v=DKIM1; p={keys.RSA2048_PUBLIC}; p=x", "fail", ["syntax-error"]),
])
def test_dkim_record(record, status, reasons):
    got_status, got_reasons, _problems, _facts = evaluate_dkim_record(record)
    assert (got_status, got_reasons) == (status, reasons)


def test_dmarc_candidates_follow_rfc7489_discovery():
    valid, lookalike = dmarc_candidates(["v=DMARC1; p=none", "v=spf1 -all", "p=reject; v=DMARC1", "v=dmarc1; p=none",
                                         " v = DMARC1 ;p=reject"])
    assert valid == ["v=DMARC1; p=none", " v = DMARC1 ;p=reject"]
    assert lookalike == ["p=reject; v=DMARC1", "v=dmarc1; p=none"]


def test_dmarc_uris():
    assert parse_dmarc_uri("mailto:agg@reports.example.com!10m") == ("mailto:agg@reports.example.com",
                                                                     "reports.example.com")
    assert parse_dmarc_uri(" https://example.com/report") == ("https://example.com/report", None)
    for bad in ("agg@example.com", "mailto:nobody", "mailto:@example.com"):
        with pytest.raises(ValueError):
            parse_dmarc_uri(bad)


def test_sts_policy_parsing_and_mx_patterns():
    policy, problems = parse_sts_policy("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\n"
                                        "max_age: 86400\n")
    assert problems == [] and policy["mx"] == ["mail.example.com", "*.example.net"]
    assert mx_matches("mx1.example.net", "*.example.net")
    assert not mx_matches("a.b.example.net", "*.example.net")
    assert not mx_matches("example.net", "*.example.net")
    _, problems = parse_sts_policy("version: STSv1\nmode: enforce\nmax_age: 31557601\n")
    assert len(problems) == 2  # max_age over a year, enforce without mx


def test_scan_cli_only_email_with_selectors_and_senders(testworld, settings):
    state = testworld.state()
    settings.LAUNCHREADY_NETWORK = {key: state[key] for key in ("nameservers", "ca_bundle", "port_map",
                                                                "allowed_networks")}
    out = io.StringIO()
    call_command("scan", "mail-good.lrtest", "--only", "email", "--dkim-selector", "s2048", "--dkim-selector", "ed",
                 "--spf-sender", "include:sender-esp.lrtest", "--json", stdout=out)
    result = json.loads(out.getvalue())
    by_check = {f["check"]: f for f in result["findings"]}
    assert sorted(by_check) == ["email.dkim", "email.dmarc", "email.mta_sts", "email.mx", "email.spf",
                                "email.tls_rpt"]
    assert {f["status"] for f in by_check.values()} == {"pass"}
    assert by_check["email.spf"]["evidence"]["approved_senders"] == ["sender-esp.lrtest"]
    assert sorted(by_check["email.dkim"]["evidence"]["selectors"]) == ["ed", "s2048"]
