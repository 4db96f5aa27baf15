"""Fixture data for handover packs: client orbit (workspace acme) with full inventories and a finished scan."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

SECRET_VALUE = "sk_live_51HandoverNeverPrintThisValue"

DNS = {
    "orbit.example": {"records": {"A": ["203.0.113.10"], "MX": ["10 mx1.mail.example."],
                                  "TXT": ['"v=spf1 include:_spf.mail.example -all"'], "CAA": ['0 issue "letsencrypt.org"']},
                      "ttls": {"A": 300, "MX": 3600, "TXT": 3600, "CAA": 86400}},
    "www.orbit.example": {"records": {"CNAME": ["orbit-www.edge.example."], "A": ["198.51.100.7"]},
                          "ttls": {"CNAME": 120, "A": 60}},
}


def make_scan(client, sprint, *, dns=DNS, perf=True):
    from apps.checks.models import Finding, ScanRun

    scan = ScanRun.objects.create(client=client, sprint=sprint, profile="internet", domain=client.domain,
                                  state=ScanRun.DONE, score=71, grade="C", decision="no-go", blockers=1,
                                  finished_at=timezone.now())
    rows = [
        ("tls.certificate", "orbit.example", "pass", "blocker", "The certificate is valid for 60 days.",
         {"issuer_cn": "R11 Test CA", "not_after": "2027-01-27T00:00:00", "days_left": 60,
          "sans": ["orbit.example"]}, ""),
        ("tls.certificate", "www.orbit.example", "fail", "blocker", "The certificate of www.orbit.example expired.",
         {"issuer_cn": "Old CA", "not_after": "2026-10-01T00:00:00", "days_left": -58}, "Renew the certificate."),
        ("http.hsts", "orbit.example", "warn", "medium", "HSTS max-age is short.", {}, "Raise max-age to a year."),
        ("email.dmarc", "orbit.example", "fail", "medium", "No DMARC record.", {"domain": "orbit.example",
                                                                             "record": None}, "Publish DMARC."),
        ("email.spf", "orbit.example", "pass", "high", "SPF is strict.",
         {"domain": "orbit.example", "record": "v=spf1 include:_spf.mail.example -all"}, ""),
        ("edge.cdn", "www.orbit.example", "pass", "low", "Served through Fastly.", {"provider": "Fastly"}, ""),
        ("edge.cdn", "orbit.example", "warn", "low", "No CDN.", {}, "Add a CDN."),
        ("deploy.secrets_in_repo", "github.com/orbit/app", "fail", "blocker",
         "A Stripe live key is in the git history.",
         {"rule": "stripe_live", "kind": "Stripe live secret key", "masked": "sk_live_…alue"}, "Rotate it."),
    ]
    for host, ev in dns.items():
        rows.append(("dns.records", host, "pass", "medium", f"{host} resolves.", ev, ""))
    if perf:
        rows.append(("perf.latency", "https://orbit.example/", "pass", "high", "Fast enough.",
                     {"url": "https://orbit.example/", "p50_ms": 42, "p95_ms": 180, "p99_ms": 420,
                      "planned_rate": 20, "error_rate": 0.0}, ""))
    Finding.objects.bulk_create(Finding(scan=scan, check_id=c, target=t, status=s, severity=sev, summary=summ,
                                        evidence=ev, remediation=rem) for c, t, s, sev, summ, ev, rem in rows)
    return scan


def fill_inventories(client):
    from apps.clients import models as cm

    today = date.today()
    cm.EnvVar.objects.create(client=client, name="STRIPE_SECRET_KEY", environments=["production"],
                             where_stored="Fly.io secrets", secret=True, rotation_due=today + timedelta(days=30))
    cm.EnvVar.objects.create(client=client, name="DATABASE_URL", environments=["staging", "production"],
                             where_stored="Fly.io secrets", secret=True, rotation_due=today + timedelta(days=60))
    cm.EnvVar.objects.create(client=client, name="PUBLIC_APP_URL", environments=["development", "staging",
                                                                                  "production"],
                             where_stored="fly.toml")
    cm.VendorAccount.objects.create(client=client, vendor="Fly.io", purpose="Hosting", owner="Leo Park",
                                    login_identity="leo@orbit.example", two_factor=True, billing_owner="Ana Ruiz")
    cm.VendorAccount.objects.create(client=client, vendor="Postmark", purpose="Transactional email",
                                    owner="Ana Ruiz", login_identity="ops@orbit.example", two_factor=False,
                                    billing_owner="Ana Ruiz")
    cm.RunbookStep.objects.create(client=client, kind="deploy", position=1, text="Merge to main; CI builds the image")
    cm.RunbookStep.objects.create(client=client, kind="deploy", position=2, text="fly deploy --strategy rolling",
                                  command="fly deploy")
    cm.RunbookStep.objects.create(client=client, kind="rollback", position=1,
                                  text="List releases and pick the previous image", command="fly releases",
                                  last_tested=date(2026, 11, 20))
    cm.RunbookStep.objects.create(client=client, kind="rollback", position=2,
                                  text="Redeploy the previous image", command="fly deploy --image registry/orbit:prev")
    cm.Owner.objects.create(client=client, area="DNS and domains", person="Leo Park", contact="leo@orbit.example")
    cm.Owner.objects.create(client=client, area="On-call", person="Ana Ruiz")


@pytest.fixture
def handover_world(cast):
    """cast + orbit's inventories and a finished scan of its sprint; returns cast."""
    cast.orbit.domain = "orbit.example"
    cast.orbit.save(update_fields=["domain"])
    fill_inventories(cast.orbit)
    cast.orbit_scan = make_scan(cast.orbit, cast.orbit_sprint)
    return cast


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Packs and logos written by these tests land in a throwaway MEDIA_ROOT."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
