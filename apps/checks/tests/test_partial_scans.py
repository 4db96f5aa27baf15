"""A deploy's smoke scan or a delivery test's one-check scan scores only what it ran (four passes: 100, grade A):
it must never stand in for the client's readiness — dashboard, sprint page, comparisons, alerts, handover pack."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from apps.checks import pipeline
from apps.checks.models import Finding, ScanRun
from apps.reports.handover import latest_scan

pytestmark = pytest.mark.django_db

SMOKE = ["deploy.smoke", "tls.certificate", "http.https_redirect", "http.hsts"]


def done_scan(client, sprint, verdicts, *, only=(), scheduled=False):
    scan = ScanRun.objects.create(client=client, sprint=sprint, profile="testworld", domain=client.domain,
                                  state=ScanRun.RUNNING, options={"only": list(only), "scheduled": scheduled})
    Finding.objects.bulk_create(Finding(scan=scan, check_id=check, target=client.domain, status=status,
                                        severity=severity, summary=f"{check} {status}")
                                for check, (status, severity) in verdicts.items())
    assert pipeline.finalize(scan)
    scan.refresh_from_db()
    return scan


FULL = {"tls.certificate": ("fail", "blocker"), "http.hsts": ("pass", "medium"), "dns.records": ("pass", "medium"),
        "email.dmarc": ("fail", "medium"), "deploy.secrets_in_repo": ("fail", "blocker")}
SMOKE_PASS = {check: ("pass", "high") for check in SMOKE}


def test_a_smoke_scan_after_a_full_scan_never_reads_as_the_clients_readiness(cast, login):
    full = done_scan(cast.orbit, cast.orbit_sprint, FULL)
    assert full.score < 60 and full.blockers == 2
    smoke = done_scan(cast.orbit, cast.orbit_sprint, SMOKE_PASS, only=SMOKE)
    assert (smoke.score, smoke.grade, smoke.blockers) == (100, "A", 0)  # four passes score perfectly
    browser = login(cast.alice)
    dashboard = browser.get(reverse("sprints:dashboard"))
    (orbit,) = [s for s in dashboard.context["sprints"] if s.client_id == cast.orbit.pk]
    assert (orbit.latest_scan_id, orbit.latest_score, orbit.latest_blockers) == (full.pk, full.score, 2)
    sprint_page = browser.get(reverse("sprints:detail", kwargs={"sprint_id": cast.orbit_sprint.pk}))
    assert sprint_page.context["latest_scan"].pk == full.pk
    detail = browser.get(reverse("checks:detail", kwargs={"scanrun_id": smoke.pk}))
    assert detail.context["previous"].pk == full.pk
    assert latest_scan(cast.orbit_sprint).pk == full.pk
    # a scheduled full scan compares with the full scan before it, not with the smoke test's 100
    later = done_scan(cast.orbit, cast.orbit_sprint, FULL, scheduled=True)
    assert later.score == full.score and mail.outbox == []


def test_a_scheduled_scan_that_ran_out_of_time_sends_no_alert(cast):
    done_scan(cast.orbit, cast.orbit_sprint, {"http.hsts": ("pass", "medium")})
    scan = ScanRun.objects.create(client=cast.orbit, sprint=cast.orbit_sprint, profile="testworld",
                                  domain=cast.orbit.domain, state=ScanRun.RUNNING, failure_reason="deadline passed",
                                  options={"only": [], "scheduled": True})
    Finding.objects.create(scan=scan, check_id="http.hsts", target=cast.orbit.domain, status="error",
                           severity="medium", summary="The check did not finish before the scan's deadline.")
    assert pipeline.finalize(scan, reason="deadline passed")
    assert mail.outbox == []


def test_scans_without_an_only_option_count_as_full(cast):
    legacy = ScanRun.objects.create(client=cast.orbit, profile="testworld", domain="orbit.example",
                                    state=ScanRun.DONE, options={}, finished_at=timezone.now())
    smoke = ScanRun.objects.create(client=cast.orbit, profile="testworld", domain="orbit.example",
                                   state=ScanRun.DONE, options={"only": SMOKE}, finished_at=timezone.now())
    assert set(ScanRun.objects.full().values_list("pk", flat=True)) == {legacy.pk}
    assert smoke.pk not in set(cast.orbit.scans.full().values_list("pk", flat=True))
