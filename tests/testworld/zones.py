"""The test world's DNS: one declarative table, name -> records or behaviour.

Records are zone-file text per type. Behaviours: "rcode" (answer SERVFAIL/REFUSED/...), "drop" (never answer),
"flip" (A answers alternate between the listed sets on each query: a rebinding name).
Anything not in the table is NXDOMAIN. A CNAME is chased inside the table like a recursive resolver would.
Email checks can add MX/TXT names with `add_zone()`.
"""

from __future__ import annotations

MAIN = "127.0.0.2"  # the virtual-host web server (HTTP + HTTPS with SNI)
LEGACY_TLS = "127.0.0.4"  # accepts TLS 1.0 - 1.3
ANCIENT_TLS = "127.0.0.5"  # TLS 1.0 / 1.1 only
BAIT = "127.0.0.6"  # counts connections: the SSRF suite proves nothing reaches it
BLACKHOLE = "127.0.0.10"  # accepts TCP, never says anything (also: a TLS handshake that hangs)
GARBAGE = "127.0.0.11"  # answers with bytes that are not HTTP
DEAD = "127.0.0.20"  # nothing listens: connection refused
SERVED_IPS = (MAIN, LEGACY_TLS, ANCIENT_TLS, BAIT, BLACKHOLE, GARBAGE)
PUBLIC_EXAMPLE = "93.184.216.34"  # a global address the flip name alternates with

ZONES: dict[str, dict] = {
    # The good site: six hostnames, all healthy.
    "good.lrtest": {"A": [MAIN], "NS": ["ns1.lrtest."], "CAA": ['0 issue "letsencrypt.org"'],
                    "MX": ["10 mx.good.lrtest."], "TXT": ['"v=spf1 -all"']},
    "www.good.lrtest": {"CNAME": "good.lrtest."},
    "app.good.lrtest": {"A": [MAIN]},
    "api.good.lrtest": {"A": [MAIN]},
    "docs.good.lrtest": {"CNAME": "docs-good.cdn-edge.lrtest."},
    "docs-good.cdn-edge.lrtest": {"A": [MAIN]},
    "status.good.lrtest": {"A": [MAIN]},
    "mx.good.lrtest": {"A": [MAIN]},
    # DNS verdicts
    "nocaa.lrtest": {"A": [MAIN], "NS": ["ns1.lrtest."]},
    "apexcname.lrtest": {"CNAME": "good.lrtest."},
    "conflict.good.lrtest": {"CNAME": "good.lrtest.", "TXT": ['"verification=abc"']},
    "blog.good.lrtest": {"CNAME": "gone-app.herokuapp.com."},  # dangling: target is NXDOMAIN
    "shop.good.lrtest": {"CNAME": "empty.lrtest."},  # target exists but has no address
    "empty.lrtest": {"TXT": ['"nothing here"']},
    "broken.good.lrtest": {"CNAME": "servfail.lrtest."},
    "servfail.lrtest": {"rcode": "SERVFAIL"},
    "refused.lrtest": {"rcode": "REFUSED"},
    "timeout.lrtest": {"drop": True},
    # bad servers
    "blackhole.lrtest": {"A": [BLACKHOLE]},
    "garbage.lrtest": {"A": [GARBAGE]},
    "docs.dead.lrtest": {"A": [DEAD]},
    "dead.lrtest": {"A": [MAIN]},
    "halfdead.lrtest": {"A": [MAIN]},
    "www.halfdead.lrtest": {"A": [BLACKHOLE]},
    "legacy.lrtest": {"A": [LEGACY_TLS]},
    "ancient.lrtest": {"A": [ANCIENT_TLS]},
    # SSRF: names that lead somewhere the production profile must never connect to
    "bait.lrtest": {"A": [BAIT]},
    "loopback.ssrf.lrtest": {"A": [BAIT]},
    "ten.ssrf.lrtest": {"A": ["10.0.0.1"]},
    "rfc1918b.ssrf.lrtest": {"A": ["172.16.5.4"]},
    "rfc1918c.ssrf.lrtest": {"A": ["192.168.1.1"]},
    "metadata.ssrf.lrtest": {"A": ["169.254.169.254"]},
    "cgnat.ssrf.lrtest": {"A": ["100.64.0.1"]},
    "v6loop.ssrf.lrtest": {"AAAA": ["::1"]},
    "ula.ssrf.lrtest": {"AAAA": ["fd00::1"]},
    "linklocal6.ssrf.lrtest": {"AAAA": ["fe80::1"]},
    "mapped.ssrf.lrtest": {"AAAA": ["::ffff:127.0.0.6"]},
    "flip.ssrf.lrtest": {"flip": [[BAIT], [PUBLIC_EXAMPLE]]},
}

# Hosts of the web server that need nothing but an A record to MAIN.
WEB_HOSTS_ON_MAIN = (
    "expired.lrtest", "expiring.lrtest", "wronghost.lrtest", "selfsigned.lrtest", "unknownca.lrtest",
    "incomplete.lrtest", "weakkey.lrtest", "noredirect.lrtest", "tempredirect.lrtest", "nohsts.lrtest",
    "shorthsts.lrtest", "bare.lrtest", "partial.lrtest", "mixed.lrtest", "passive.lrtest", "devrefs.lrtest",
    "jsrefs.lrtest", "nocache.lrtest", "cookiecache.lrtest", "origin.lrtest", "both.lrtest", "www.both.lrtest",
    "loop.lrtest", "www.loop.lrtest", "chain.lrtest", "www.chain.lrtest", "trickle.lrtest", "huge.lrtest",
    "redirector.lrtest",
)
for _host in WEB_HOSTS_ON_MAIN:
    ZONES.setdefault(_host, {"A": [MAIN]})


def add_zone(name: str, **records) -> None:
    """Add or extend a name: add_zone("mail.lrtest", MX=["10 mx.lrtest."], TXT=['"v=spf1 -all"'])."""
    ZONES.setdefault(name.lower().rstrip("."), {}).update(records)
