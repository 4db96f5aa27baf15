"""SPF check_host() (RFC 7208 section 4) and macro expansion, answered by the test world's DNS through ScanNet."""

import asyncio
import ipaddress

import pytest

from apps.checks.engine.net import ScanNet
from apps.inbound.authentication import SpfContext, aligned, check_host, expand_macros, from_domain


@pytest.fixture
def spf(testworld):
    def run(ip, domain, sender=None):
        async def go():
            return await check_host(ScanNet(testworld.profile()), ip, domain, sender or f"a@{domain}", "helo.lrtest")

        return asyncio.run(go())[0]

    return run


@pytest.mark.parametrize(("ip", "domain", "result"), [
    ("127.0.0.1", "sender-app.lrtest", "pass"),  # ip4:127.0.0.0/8
    ("192.0.2.9", "sender-app.lrtest", "fail"),  # -all
    ("192.0.2.200", "mail-good.lrtest", "pass"),  # ip4:192.0.2.0/24
    ("127.0.0.2", "mail-good.lrtest", "pass"),  # mx -> mx1/mx2 -> 127.0.0.2
    ("::1", "mail-good.lrtest", "pass"),  # mx2 has AAAA ::1
    ("203.0.113.5", "mail-good.lrtest", "pass"),  # include:_spf.sender-esp.lrtest
    ("2001:db8::5", "mail-good.lrtest", "pass"),  # nested include _net.sender-esp (ip6)
    ("198.51.100.1", "mail-good.lrtest", "fail"),
    ("198.51.100.1", "spf-redirect.lrtest", "pass"),  # redirect=_spf.mail-good.lrtest
    ("203.0.113.200", "spf-unapproved.lrtest", "pass"),
    ("10.1.1.1", "spf-softfail.lrtest", "softfail"),
    ("10.1.1.1", "spf-neutral.lrtest", "neutral"),
    ("10.1.1.1", "spf-noall.lrtest", "neutral"),
    ("10.1.1.1", "spf-plusall.lrtest", "pass"),
    ("10.1.1.1", "spf-none.lrtest", "none"),
    ("10.1.1.1", "spf-multiple.lrtest", "permerror"),
    ("10.1.1.1", "spf-syntax.lrtest", "permerror"),
    ("10.1.1.1", "spf-toomany.lrtest", "permerror"),
    ("10.1.1.1", "spf-void.lrtest", "permerror"),
    ("10.1.1.1", "spf-include-missing.lrtest", "permerror"),
    ("10.1.1.1", "spf-redirect-missing.lrtest", "permerror"),
    ("10.1.1.1", "spf-loop.lrtest", "permerror"),
    ("10.1.1.1", "spf-mxlimit.lrtest", "permerror"),
    ("10.1.1.1", "dns-broken.lrtest", "temperror"),
])
def test_check_host(spf, ip, domain, result):
    assert spf(ip, domain) == result


def test_macro_expansion():
    ctx = SpfContext(ipaddress.ip_address("192.0.2.3"), "strong-bad@email.example.com", "mx.example.org")
    assert expand_macros("%{s}", ctx, "email.example.com") == "strong-bad@email.example.com"
    assert expand_macros("%{o}", ctx, "email.example.com") == "email.example.com"
    assert expand_macros("%{d4}", ctx, "email.example.com") == "email.example.com"
    assert expand_macros("%{d2}", ctx, "email.example.com") == "example.com"
    assert expand_macros("%{d1r}", ctx, "email.example.com") == "email"
    assert expand_macros("%{ir}.%{v}._spf.%{d2}", ctx, "email.example.com") == "3.2.0.192.in-addr._spf.example.com"
    assert expand_macros("%{lr-}.lp._spf.%{d2}", ctx, "email.example.com") == "bad.strong.lp._spf.example.com"
    assert expand_macros("%{l1r-}.lp._spf.%{d2}", ctx, "email.example.com") == "strong.lp._spf.example.com"
    v6 = SpfContext(ipaddress.ip_address("2001:db8::cb01"), "a@example.com", "h")
    assert expand_macros("%{ir}.%{v}._spf.%{d2}", v6, "email.example.com") == (
        "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com")


def test_from_domain_and_alignment():
    assert from_domain([("From", "Nova <hello@Mail.Nova.lrtest>")]) == "mail.nova.lrtest"
    assert from_domain([("From", "a@x.lrtest, b@y.lrtest")]) is None
    assert from_domain([("From", "a@x.lrtest"), ("From", "b@x.lrtest")]) is None
    assert from_domain([("From", "hello@bücher-post.lrtest")]) == "xn--bcher-post-9db.lrtest"
    assert aligned("bounce.nova.lrtest", "nova.lrtest", "r")
    assert not aligned("bounce.nova.lrtest", "nova.lrtest", "s")
    assert not aligned("nova-mail.lrtest", "nova.lrtest", "r")
