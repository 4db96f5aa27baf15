"""The email corpus of the test world: one domain per verdict of MX, SPF, DKIM, DMARC, TLS-RPT and MTA-STS.

Merged into zones.ZONES (and MTA-STS policy hosts into sites.SITES) on import; world.py imports this module.
EMAIL_CASES lists every domain with the check options a scan of it needs (used by tests and the benchmark).
"""

from __future__ import annotations

from . import email_keys as keys
from . import sites, zones
from .zones import MAIN

GOOD = "mail-good.lrtest"
DELIVERY_SENDER = "sender-app.lrtest"  # the founder's app in the delivery test: SPF allows loopback, DKIM key "app"


def txt(value: str) -> str:
    """One TXT record in zone-file form, split into 255-byte character-strings (concatenated by readers)."""
    chunks = [value[i:i + 255] for i in range(0, len(value), 255)] or [""]
    return " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)


def dkim(key: str, extra: str = "") -> str:
    return txt(f"v=DKIM1; {extra}p={key}" if not extra else f"v=DKIM1; {extra}; p={key}")


RSA_GOOD = dkim(keys.RSA2048_PUBLIC, "k=rsa")
ED_GOOD = dkim(keys.ED25519_PUBLIC, "k=ed25519")

EMAIL_ZONES: dict[str, dict] = {
    # --- one domain where everything is right ------------------------------------------------------------------
    GOOD: {"A": [MAIN], "MX": [f"10 mx1.{GOOD}.", f"20 mx2.{GOOD}."],
           "TXT": [txt("v=spf1 ip4:192.0.2.0/24 mx include:_spf.sender-esp.lrtest -all"),
                   txt("google-site-verification=abc")]},
    f"mx1.{GOOD}": {"A": [MAIN]},
    f"mx2.{GOOD}": {"A": [MAIN], "AAAA": ["::1"]},
    f"_spf.{GOOD}": {"TXT": [txt("v=spf1 ip4:198.51.100.0/24 -all")]},
    f"s2048._domainkey.{GOOD}": {"TXT": [RSA_GOOD]},
    f"ed._domainkey.{GOOD}": {"TXT": [ED_GOOD]},
    f"_dmarc.{GOOD}": {"TXT": [txt(f"v=DMARC1; p=reject; rua=mailto:dmarc@{GOOD}; adkim=s")]},
    f"_smtp._tls.{GOOD}": {"TXT": [txt(f"v=TLSRPTv1; rua=mailto:tlsrpt@{GOOD}")]},
    f"_mta-sts.{GOOD}": {"TXT": [txt("v=STSv1; id=20261128T000000")]},
    f"mta-sts.{GOOD}": {"A": [MAIN]},
    # the web test world's good site is good at email too, so a full scan of it scores 100
    "_dmarc.good.lrtest": {"TXT": [txt("v=DMARC1; p=quarantine; rua=mailto:dmarc@good.lrtest")]},
    "_smtp._tls.good.lrtest": {"TXT": [txt("v=TLSRPTv1; rua=mailto:tlsrpt@good.lrtest")]},
    "_mta-sts.good.lrtest": {"TXT": [txt("v=STSv1; id=20261128T000000")]},
    "mta-sts.good.lrtest": {"A": [MAIN]},
    # email service providers the records include
    "_spf.sender-esp.lrtest": {"TXT": [txt("v=spf1 ip4:203.0.113.0/25 include:_net.sender-esp.lrtest ~all")]},
    "_net.sender-esp.lrtest": {"TXT": [txt("v=spf1 ip6:2001:db8::/32 ~all")]},
    "_spf.other-esp.lrtest": {"TXT": [txt("v=spf1 ip4:203.0.113.128/25 ~all")]},
    "_spf.open-esp.lrtest": {"TXT": [txt("v=spf1 +all")]},
    "nospf.esp.lrtest": {"A": [MAIN]},
    "s1._domainkey.esp-dkim.lrtest": {"TXT": [RSA_GOOD]},
    # --- email.mx ------------------------------------------------------------------------------------------------
    "null-mx.lrtest": {"A": [MAIN], "MX": ["0 ."], "TXT": [txt("v=spf1 -all")]},
    "_dmarc.null-mx.lrtest": {"TXT": [txt("v=DMARC1; p=reject;")]},
    "null-mx-mixed.lrtest": {"MX": ["0 .", f"10 mx1.{GOOD}."]},
    "null-mx-pref.lrtest": {"MX": ["10 ."]},
    "no-mx.lrtest": {"A": [MAIN]},
    "no-mx-no-a.lrtest": {"TXT": [txt("v=spf1 -all")]},
    "mx-unresolvable.lrtest": {"MX": ["10 mx.gone.lrtest."]},
    "mx-noaddress.lrtest": {"MX": ["10 empty.mx-noaddress.lrtest."]},
    "empty.mx-noaddress.lrtest": {"TXT": [txt("nothing")]},
    "mx-ip.lrtest": {"MX": ["10 192.0.2.25."]},
    "mx-cname.lrtest": {"MX": ["10 alias.mx-cname.lrtest."]},
    "alias.mx-cname.lrtest": {"CNAME": f"mx1.{GOOD}."},
    # --- email.spf -----------------------------------------------------------------------------------------------
    "spf-softfail.lrtest": {"MX": [f"10 mx1.{GOOD}."], "TXT": [txt("v=spf1 mx a:mx2.mail-good.lrtest/24 ~all")]},
    "spf-redirect.lrtest": {"TXT": [txt(f"v=spf1 redirect=_spf.{GOOD}")]},
    "spf-none.lrtest": {"TXT": [txt("hello=world")]},
    "spf-multiple.lrtest": {"TXT": [txt("v=spf1 ip4:192.0.2.1 -all"), txt("v=spf1 include:_spf.sender-esp.lrtest -all")]},
    "spf-syntax.lrtest": {"TXT": [txt("v=spf1 ip4:192.0.2.300 -all")]},
    "spf-unknown-mech.lrtest": {"TXT": [txt("v=spf1 include=_spf.sender-esp.lrtest -all")]},
    "spf-double-redirect.lrtest": {"TXT": [txt(f"v=spf1 redirect=_spf.{GOOD} redirect=_spf.{GOOD}")]},
    "spf-toomany.lrtest": {"TXT": [txt("v=spf1 include:_s1.spf-toomany.lrtest include:_s2.spf-toomany.lrtest "
                                       f"a:mx1.{GOOD} mx:{GOOD} -all")]},
    "_s1.spf-toomany.lrtest": {"TXT": [txt(f"v=spf1 a:mx1.{GOOD} mx:{GOOD} include:_s3.spf-toomany.lrtest -all")]},
    "_s2.spf-toomany.lrtest": {"TXT": [txt(f"v=spf1 a:mx1.{GOOD} mx:{GOOD} -all")]},
    "_s3.spf-toomany.lrtest": {"TXT": [txt(f"v=spf1 a:mx1.{GOOD} mx:{GOOD} -all")]},
    "spf-ten.lrtest": {"TXT": [txt("v=spf1 include:_s1.spf-ten.lrtest include:_s2.spf-ten.lrtest "
                                   f"a:mx1.{GOOD} mx:{GOOD} a:mx2.{GOOD} -all")]},
    "_s1.spf-ten.lrtest": {"TXT": [txt(f"v=spf1 a:mx1.{GOOD} mx:{GOOD} include:_s2.spf-ten.lrtest -all")]},
    "_s2.spf-ten.lrtest": {"TXT": [txt(f"v=spf1 a:mx2.{GOOD} -all")]},
    "spf-void.lrtest": {"TXT": [txt("v=spf1 a:nx1.spf-void.lrtest mx:nx2.spf-void.lrtest "
                                    "exists:nx3.spf-void.lrtest ip4:192.0.2.1 -all")]},
    "spf-twovoid.lrtest": {"TXT": [txt("v=spf1 a:nx1.spf-void.lrtest a:nx2.spf-void.lrtest ip4:192.0.2.1 -all")]},
    "spf-include-missing.lrtest": {"TXT": [txt("v=spf1 include:nospf.esp.lrtest -all")]},
    "spf-redirect-missing.lrtest": {"TXT": [txt("v=spf1 redirect=nothing-here.lrtest")]},
    "spf-loop.lrtest": {"TXT": [txt("v=spf1 include:_a.spf-loop.lrtest -all")]},
    "_a.spf-loop.lrtest": {"TXT": [txt("v=spf1 include:spf-loop.lrtest -all")]},
    "spf-plusall.lrtest": {"TXT": [txt("v=spf1 ip4:192.0.2.1 +all")]},
    "spf-bareall.lrtest": {"TXT": [txt("v=spf1 all")]},
    "spf-include-open.lrtest": {"TXT": [txt("v=spf1 include:_spf.open-esp.lrtest -all")]},
    "spf-neutral.lrtest": {"TXT": [txt("v=spf1 ip4:192.0.2.1 ?all")]},
    "spf-ptr.lrtest": {"TXT": [txt("v=spf1 ptr -all")]},
    "spf-noall.lrtest": {"TXT": [txt("v=spf1 ip4:192.0.2.1")]},
    "spf-unapproved.lrtest": {"TXT": [txt("v=spf1 include:_spf.sender-esp.lrtest include:_spf.other-esp.lrtest "
                                          "-all")]},
    "spf-mxlimit.lrtest": {"MX": [f"{i} mx{i}.spf-mxlimit.lrtest." for i in range(11)],
                           "TXT": [txt("v=spf1 mx -all")]},
    **{f"mx{i}.spf-mxlimit.lrtest": {"A": [MAIN]} for i in range(11)},
    "spf-macro.lrtest": {"TXT": [txt("v=spf1 exists:%{i}._spf.spf-macro.lrtest include:_spf.sender-esp.lrtest "
                                     "-all")]},
    # --- email.dkim (selector s1 unless noted) -------------------------------------------------------------------
    "dkim-short.lrtest": {"A": [MAIN]},
    "s1._domainkey.dkim-short.lrtest": {"TXT": [dkim(keys.RSA1024_PUBLIC)]},
    "s1._domainkey.dkim-weak.lrtest": {"TXT": [dkim(keys.RSA512_PUBLIC)]},
    "s1._domainkey.dkim-revoked.lrtest": {"TXT": [txt("v=DKIM1; k=rsa; p=")]},
    "s1._domainkey.dkim-testing.lrtest": {"TXT": [dkim(keys.RSA2048_PUBLIC, "t=y")]},
    "s1._domainkey.dkim-cname.lrtest": {"CNAME": "s1._domainkey.esp-dkim.lrtest."},
    "dkim-missing.lrtest": {"A": [MAIN]},
    "s1._domainkey.dkim-badkey.lrtest": {"TXT": [txt("v=DKIM1; k=rsa; p=bm90IGEga2V5!!")]},
    "s1._domainkey.dkim-badversion.lrtest": {"TXT": [txt(f"k=rsa; v=DKIM1; p={keys.RSA2048_PUBLIC}")]},
    "s1._domainkey.dkim-sha1.lrtest": {"TXT": [dkim(keys.RSA2048_PUBLIC, "h=sha1")]},
    "s1._domainkey.dkim-mismatch.lrtest": {"TXT": [dkim(keys.ED25519_PUBLIC, "k=rsa")]},
    # --- email.dmarc ---------------------------------------------------------------------------------------------
    "_dmarc.dmarc-none.lrtest": {"TXT": [txt("v=DMARC1; p=none; rua=mailto:dmarc@dmarc-none.lrtest")]},
    "_dmarc.dmarc-none-norua.lrtest": {"TXT": [txt("v=DMARC1; p=none")]},
    "_dmarc.dmarc-multiple.lrtest": {"TXT": [txt("v=DMARC1; p=reject"), txt("v=DMARC1; p=none")]},
    "_dmarc.dmarc-notfirst.lrtest": {"TXT": [txt("p=reject; v=DMARC1")]},
    "_dmarc.dmarc-badp.lrtest": {"TXT": [txt("v=DMARC1; p=block; rua=mailto:d@dmarc-badp.lrtest")]},
    "_dmarc.dmarc-unknown.lrtest": {"TXT": [txt("v=DMARC1; p=reject; foo=bar; rua=mailto:d@dmarc-unknown.lrtest")]},
    "_dmarc.dmarc-pct.lrtest": {"TXT": [txt("v=DMARC1; p=quarantine; pct=50; rua=mailto:d@dmarc-pct.lrtest")]},
    "_dmarc.dmarc-ext-ok.lrtest": {"TXT": [txt("v=DMARC1; p=quarantine; rua=mailto:agg@reports-ok.lrtest")]},
    "dmarc-ext-ok.lrtest._report._dmarc.reports-ok.lrtest": {"TXT": [txt("v=DMARC1")]},
    "_dmarc.dmarc-ext-bad.lrtest": {"TXT": [txt("v=DMARC1; p=reject; rua=mailto:agg@reports-none.lrtest; "
                                                "ruf=mailto:forensic@reports-none.lrtest")]},
    "_dmarc.dmarc-nop.lrtest": {"TXT": [txt("v=DMARC1; rua=mailto:d@dmarc-nop.lrtest")]},
    "_dmarc.dmarc-org.lrtest": {"TXT": [txt("v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@dmarc-org.lrtest")]},
    "sub.dmarc-org.lrtest": {"A": [MAIN]},
    "_dmarc.dmarc-badvalue.lrtest": {"TXT": [txt("v=DMARC1; p=reject; adkim=x; rua=mailto:d@dmarc-badvalue.lrtest")]},
    "dmarc-absent.lrtest": {"A": [MAIN]},
    "_dmarc.dmarc-badsp.lrtest": {"TXT": [txt("v=DMARC1; p=reject; sp=maybe; rua=mailto:d@dmarc-badsp.lrtest")]},
    "_dmarc.dmarc-https.lrtest": {"TXT": [txt("v=DMARC1; p=reject; rua=https://dmarc-https.lrtest/reports")]},
    "_dmarc.dmarc-lowercase.lrtest": {"TXT": [txt("v=dmarc1; p=reject")]},
    "_dmarc.dmarc-duplicate.lrtest": {"TXT": [txt("v=DMARC1; p=reject; p=none")]},
    "_dmarc.dmarc-spf-only.lrtest": {"TXT": [txt("v=spf1 -all")]},  # not DMARC: ignored, so no record at all
    # Unicode domain (bücher-post.lrtest) stored as its A-label
    "xn--bcher-post-9db.lrtest": {"TXT": [txt("v=spf1 ip4:192.0.2.7 -all")]},
    "_dmarc.xn--bcher-post-9db.lrtest": {"TXT": [txt("v=DMARC1; p=reject; rua=mailto:d@xn--bcher-post-9db.lrtest")]},
    # --- email.tls_rpt -------------------------------------------------------------------------------------------
    "_smtp._tls.tlsrpt-bad.lrtest": {"TXT": [txt("v=TLSRPTv1; rua=ftp://reports.tlsrpt-bad.lrtest")]},
    "_smtp._tls.tlsrpt-multiple.lrtest": {"TXT": [txt("v=TLSRPTv1; rua=mailto:a@x.lrtest"),
                                                  txt("v=TLSRPTv1; rua=mailto:b@x.lrtest")]},
    # --- email.mta_sts -------------------------------------------------------------------------------------------
    "sts-testing.lrtest": {"MX": [f"10 mx1.{GOOD}."]},
    "_mta-sts.sts-testing.lrtest": {"TXT": [txt("v=STSv1; id=1")]},
    "mta-sts.sts-testing.lrtest": {"A": [MAIN]},
    "sts-nopolicy.lrtest": {"MX": [f"10 mx1.{GOOD}."]},
    "_mta-sts.sts-nopolicy.lrtest": {"TXT": [txt("v=STSv1; id=1")]},
    "mta-sts.sts-nopolicy.lrtest": {"A": [MAIN]},
    "sts-mismatch.lrtest": {"MX": [f"10 mx1.{GOOD}."]},
    "_mta-sts.sts-mismatch.lrtest": {"TXT": [txt("v=STSv1; id=1")]},
    "mta-sts.sts-mismatch.lrtest": {"A": [MAIN]},
    "sts-none.lrtest": {"MX": [f"10 mx1.{GOOD}."]},
    "_mta-sts.sts-none.lrtest": {"TXT": [txt("v=STSv1; id=2")]},
    "mta-sts.sts-none.lrtest": {"A": [MAIN]},
    "_mta-sts.sts-multiple.lrtest": {"TXT": [txt("v=STSv1; id=1"), txt("v=STSv1; id=2")]},
    "_mta-sts.sts-badid.lrtest": {"TXT": [txt("v=STSv1; id=not-valid!")]},
    "sts-badpolicy.lrtest": {"MX": [f"10 mx1.{GOOD}."]},
    "_mta-sts.sts-badpolicy.lrtest": {"TXT": [txt("v=STSv1; id=1")]},
    "mta-sts.sts-badpolicy.lrtest": {"A": [MAIN]},
    # --- a domain whose DNS server fails every email question ----------------------------------------------------
    **{f"{prefix}dns-broken.lrtest": {"rcode": "SERVFAIL"}
       for prefix in ("", "_dmarc.", "_smtp._tls.", "_mta-sts.", "s1._domainkey.")},
    # --- the founder's app of the delivery test (mail comes from 127.0.0.1) ------------------------------------
    DELIVERY_SENDER: {"A": [MAIN], "MX": [f"10 mx1.{GOOD}."], "TXT": [txt("v=spf1 ip4:127.0.0.0/8 -all")]},
    f"app._domainkey.{DELIVERY_SENDER}": {"TXT": [RSA_GOOD]},
    f"_dmarc.{DELIVERY_SENDER}": {"TXT": [txt(f"v=DMARC1; p=reject; rua=mailto:d@{DELIVERY_SENDER}")]},
}


def sts_policy(mode: str, *mx: str, max_age: int = 604800) -> str:
    return "\r\n".join(["version: STSv1", f"mode: {mode}", *(f"mx: {m}" for m in mx), f"max_age: {max_age}", ""])


def _policy_site(body: str, content_type: str = "text/plain") -> dict:
    return {"assets": {"/.well-known/mta-sts.txt": ({"Content-Type": content_type}, body)}}


EMAIL_SITES = {
    "mta-sts.good.lrtest": _policy_site(sts_policy("enforce", "mx.good.lrtest")),
    f"mta-sts.{GOOD}": _policy_site(sts_policy("enforce", f"*.{GOOD}")),
    "mta-sts.sts-testing.lrtest": _policy_site(sts_policy("testing", f"mx1.{GOOD}")),
    "mta-sts.sts-nopolicy.lrtest": {"assets": {}},  # the host answers, the policy is a 404
    "mta-sts.sts-mismatch.lrtest": _policy_site(sts_policy("enforce", "mx.elsewhere.lrtest")),
    "mta-sts.sts-none.lrtest": _policy_site(sts_policy("none")),
    "mta-sts.sts-badpolicy.lrtest": _policy_site("version: STSv1\nmode: strict\nmax_age: forever\n",
                                                 "text/html"),
}

# domain -> target options (dkim selectors, approved SPF senders) for a scan of it: the whole corpus.
EMAIL_CASES: dict[str, dict] = {
    GOOD: {"dkim_selectors": ["s2048", "ed"], "spf_senders": ["sender-esp.lrtest"]},
    "null-mx.lrtest": {"dkim_selectors": ["s1"]},
    **{d: {} for d in ("null-mx-mixed.lrtest", "null-mx-pref.lrtest", "no-mx.lrtest", "no-mx-no-a.lrtest",
                       "mx-unresolvable.lrtest", "mx-noaddress.lrtest", "mx-ip.lrtest", "mx-cname.lrtest")},
    **{d: {} for d in ("spf-softfail.lrtest", "spf-redirect.lrtest", "spf-none.lrtest", "spf-multiple.lrtest",
                       "spf-syntax.lrtest", "spf-unknown-mech.lrtest", "spf-double-redirect.lrtest",
                       "spf-toomany.lrtest", "spf-ten.lrtest", "spf-void.lrtest", "spf-twovoid.lrtest",
                       "spf-include-missing.lrtest", "spf-redirect-missing.lrtest", "spf-loop.lrtest",
                       "spf-plusall.lrtest", "spf-bareall.lrtest", "spf-include-open.lrtest",
                       "spf-neutral.lrtest", "spf-ptr.lrtest", "spf-noall.lrtest", "spf-mxlimit.lrtest",
                       "spf-macro.lrtest")},
    "spf-unapproved.lrtest": {"spf_senders": ["sender-esp.lrtest"]},
    **{d: {"dkim_selectors": ["s1"]} for d in ("dkim-short.lrtest", "dkim-weak.lrtest", "dkim-revoked.lrtest",
                                                "dkim-testing.lrtest", "dkim-cname.lrtest", "dkim-missing.lrtest",
                                                "dkim-badkey.lrtest", "dkim-badversion.lrtest", "dkim-sha1.lrtest",
                                                "dkim-mismatch.lrtest")},
    **{d: {} for d in ("dmarc-none.lrtest", "dmarc-none-norua.lrtest", "dmarc-multiple.lrtest",
                       "dmarc-notfirst.lrtest", "dmarc-badp.lrtest", "dmarc-unknown.lrtest", "dmarc-pct.lrtest",
                       "dmarc-ext-ok.lrtest", "dmarc-ext-bad.lrtest", "dmarc-nop.lrtest", "sub.dmarc-org.lrtest",
                       "dmarc-badvalue.lrtest", "dmarc-absent.lrtest", "bücher-post.lrtest",
                       "tlsrpt-bad.lrtest", "tlsrpt-multiple.lrtest", "sts-testing.lrtest", "sts-nopolicy.lrtest",
                       "sts-mismatch.lrtest", "sts-badpolicy.lrtest", "dmarc-badsp.lrtest", "dmarc-https.lrtest",
                       "dmarc-lowercase.lrtest", "dmarc-duplicate.lrtest", "dmarc-spf-only.lrtest",
                       "sts-none.lrtest", "sts-multiple.lrtest", "sts-badid.lrtest")},
    "dns-broken.lrtest": {"dkim_selectors": ["s1"]},
    DELIVERY_SENDER: {"dkim_selectors": ["app"]},
}


def install() -> None:
    clashes = {n for n in EMAIL_ZONES if zones.ZONES.get(n, EMAIL_ZONES[n]) != EMAIL_ZONES[n]}
    clashes |= {n for n in EMAIL_SITES if sites.SITES.get(n, EMAIL_SITES[n]) != EMAIL_SITES[n]}
    if clashes:
        raise RuntimeError(f"email test zones clash with the engine's: {sorted(clashes)}")
    zones.ZONES.update(EMAIL_ZONES)
    sites.SITES.update(EMAIL_SITES)


install()
