"""The demo clients' corner of the test world (scripts/run, manage.py demo): a nearly ready product with a few
real problems (NovaChat) and a handed-over one that passes (Orbit Tutor). Merged into the zone and site tables on
import, like the email corpus."""

from . import sites, zones
from .email_zones import RSA_GOOD
from .sites import GOOD_ASSETS, GOOD_HTML
from .zones import MAIN

# NovaChat proves ownership with this TXT record, so the demo can run active checks; the demo loader gives the
# NovaChat client the same token (apps/core/management/commands/demo.py, NOVACHAT_VERIFY_TOKEN).
NOVACHAT_VERIFY_TOKEN = "novachat-demo-verify-2f8c1a9e4b7d"


def txt(value: str) -> str:
    return '"' + value + '"'


LOGIN_PAGE = ({"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
              "<!doctype html><form method=post><input name=email><input type=password name=password></form>")

DEMO_ZONES = {
    # NovaChat: ready but for a leaked dev URL, a dangling docs CNAME and DMARC without reports
    "novachat.lrtest": {"A": [MAIN], "NS": ["ns1.lrtest."], "CAA": ['0 issue "letsencrypt.org"'],
                        "MX": ["10 mx.novachat.lrtest."],
                        "TXT": [txt("v=spf1 include:_spf.sender-esp.lrtest -all"),
                                txt(f"launchready-verify={NOVACHAT_VERIFY_TOKEN}")]},
    "www.novachat.lrtest": {"CNAME": "novachat.lrtest."},
    "app.novachat.lrtest": {"A": [MAIN]},
    "api.novachat.lrtest": {"A": [MAIN]},
    "docs.novachat.lrtest": {"CNAME": "novachat-docs.gitbook-gone.lrtest."},  # dangling: takeover risk
    "mx.novachat.lrtest": {"A": [MAIN]},
    "_dmarc.novachat.lrtest": {"TXT": [txt("v=DMARC1; p=none")]},
    "google._domainkey.novachat.lrtest": {"TXT": [RSA_GOOD]},
    # Orbit Tutor: handed over, passes
    "orbittutor.lrtest": {"A": [MAIN], "NS": ["ns1.lrtest."], "CAA": ['0 issue "letsencrypt.org"'],
                          "MX": ["10 mx.orbittutor.lrtest."], "TXT": [txt("v=spf1 mx -all")]},
    "www.orbittutor.lrtest": {"CNAME": "orbittutor.lrtest."},
    "app.orbittutor.lrtest": {"A": [MAIN]},
    "mx.orbittutor.lrtest": {"A": [MAIN]},
    "_dmarc.orbittutor.lrtest": {"TXT": [txt("v=DMARC1; p=reject; rua=mailto:dmarc@orbittutor.lrtest")]},
    "s1._domainkey.orbittutor.lrtest": {"TXT": [RSA_GOOD]},
}

DEMO_SITES = {
    "novachat.lrtest": {},
    "www.novachat.lrtest": {"redirect_to": "https://novachat.lrtest"},
    "app.novachat.lrtest": {
        "html": GOOD_HTML.replace("<h1>", '<script>window.API_URL="http://localhost:3000/api"</script><h1>'),
        "assets": {**GOOD_ASSETS, "/login": LOGIN_PAGE},
    },
    "api.novachat.lrtest": {"drop": ["Strict-Transport-Security"]},
    "orbittutor.lrtest": {},
    "www.orbittutor.lrtest": {"redirect_to": "https://orbittutor.lrtest"},
    "app.orbittutor.lrtest": {"assets": {**GOOD_ASSETS, "/login": LOGIN_PAGE}},
}


def install() -> None:
    clashes = {n for n in DEMO_ZONES if zones.ZONES.get(n, DEMO_ZONES[n]) != DEMO_ZONES[n]}
    clashes |= {n for n in DEMO_SITES if sites.SITES.get(n, DEMO_SITES[n]) != DEMO_SITES[n]}
    if clashes:
        raise RuntimeError(f"demo zones clash with the test world's: {sorted(clashes)}")
    zones.ZONES.update(DEMO_ZONES)
    sites.SITES.update(DEMO_SITES)


install()
