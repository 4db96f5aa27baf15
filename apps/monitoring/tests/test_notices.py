"""Certificate-expiry and readiness-regression alerts from finished scans."""

import pytest

from apps.checks.models import Finding, ScanRun
from apps.monitoring import alerts
from apps.monitoring.models import AlertAttempt, AlertChannel
from apps.monitoring.notices import alert_on_scan, scan_notices
from tests.testworld.monitor_sites import Receiver

pytestmark = pytest.mark.django_db


def finished_scan(client, score, decision, findings=()):
    scan = ScanRun.objects.create(client=client, profile="testworld", domain=client.domain, state=ScanRun.DONE,
                                  score=score, grade="B", decision=decision)
    for check_id, status, evidence in findings:
        Finding.objects.create(scan=scan, check_id=check_id, target=client.domain, status=status, severity="high",
                               summary="…", evidence=evidence)
    return scan


def test_expiring_certificate_and_regression_alert_each_channel_once_a_day(uptime_client):
    finished_scan(uptime_client, 92, "go", [("tls.certificate", "pass", {"days_left": 60})])
    scan = finished_scan(uptime_client, 71, "no-go", [("tls.certificate", "warn", {"days_left": 9}),
                                                      ("http.hsts", "fail", {})])
    notes = scan_notices(scan)
    assert notes[0] == "The certificate of uptime.lrtest expires in 9 days: renew it now."
    assert notes[1] == "Readiness regressed: score 92 → 71, decision go → no-go; newly failing: http.hsts."
    with Receiver() as slack:
        channel = AlertChannel(client=uptime_client, kind="slack", name="Ops", owner="Dana On-call")
        channel.target = slack.url
        channel.save()
        attempts = alert_on_scan(scan)
        assert alert_on_scan(scan) == []  # the same notice is not repeated within a day
        alerts.deliver(attempts[0].pk)
        assert "renew it now" in slack.json()[0]["text"] and "Owner: Dana On-call" in slack.json()[0]["text"]
    assert AlertAttempt.objects.get().status == AlertAttempt.SENT


def test_a_steady_scan_alerts_nobody(uptime_client):
    finished_scan(uptime_client, 80, "go", [("tls.certificate", "pass", {"days_left": 60})])
    scan = finished_scan(uptime_client, 85, "go", [("tls.certificate", "pass", {"days_left": 59})])
    assert scan_notices(scan) == [] and alert_on_scan(scan) == []
