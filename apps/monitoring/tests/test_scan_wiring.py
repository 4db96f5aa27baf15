"""Monitoring's part of every finished scan, through the pipeline's real finalize() and its scan_finalized signal:
obs.monitors / obs.health become findings of the scan (and count in its score), notices go to the client's
channels; a failed deploy smoke test alerts them through settings.DEPLOY_SMOKE_FAILED_HOOK."""

import pytest
from django.conf import settings
from django.core import mail
from django.utils.module_loading import import_string

from apps.checks import pipeline
from apps.checks.engine import scoring
from apps.checks.models import Finding, ScanRun
from apps.deploys import gate
from apps.deploys.models import Deploy
from apps.monitoring import alerts
from apps.monitoring.models import AlertAttempt, AlertChannel
from apps.monitoring.notices import alert_smoke_failed
from tests.testworld.monitor_sites import Receiver

pytestmark = pytest.mark.django_db


def running_scan(client, findings=(), **options):
    scan = ScanRun.objects.create(client=client, profile="testworld", domain=client.domain, state=ScanRun.RUNNING,
                                  options=options)
    for check_id, status, evidence in findings:
        Finding.objects.create(scan=scan, check_id=check_id, target=client.domain, status=status, severity="high",
                               summary="…", evidence=evidence)
    return scan


def channel_for(client, kind, target):
    channel = AlertChannel(client=client, kind=kind, name=f"{kind} channel", owner="Dana On-call")
    channel.target = target
    channel.save()
    return channel


def test_a_finished_scan_carries_the_observability_findings_in_its_score(uptime_client):
    scan = running_scan(uptime_client, [("tls.certificate", "pass", {"days_left": 80})])
    assert pipeline.finalize(scan)
    scan.refresh_from_db()
    obs = {f.check_id: f for f in scan.findings.filter(check_id__startswith="obs.")}
    assert set(obs) == {"obs.monitors", "obs.health"}
    assert obs["obs.monitors"].status == "fail" and "not monitored: homepage, login, health, chat" in \
        obs["obs.monitors"].summary
    assert obs["obs.health"].status == "fail"
    findings = pipeline.engine_findings(scan)
    assert scan.score == scoring.score(findings) and scan.decision == scoring.decision(findings)
    assert scan.score < scoring.score([f for f in findings if not f.check.startswith("obs.")])


def test_a_partial_scan_gets_no_observability_findings_nor_notices(uptime_client):
    channel_for(uptime_client, "slack", "https://hooks.example.com/x")
    scan = running_scan(uptime_client, [("tls.certificate", "warn", {"days_left": 3})], only=["tls.certificate"])
    assert pipeline.finalize(scan)
    assert not scan.findings.filter(check_id__startswith="obs.").exists()
    assert not AlertAttempt.objects.exists()


def test_a_finished_scan_with_an_expiring_certificate_alerts_the_channels(uptime_client):
    with Receiver() as slack:
        channel_for(uptime_client, "slack", slack.url)
        scan = running_scan(uptime_client, [("tls.certificate", "warn", {"days_left": 9})])
        assert pipeline.finalize(scan)
        attempt = AlertAttempt.objects.get(event=AlertAttempt.NOTICE)
        assert "expires in 9 days" in attempt.text
        alerts.deliver(attempt.pk)
        assert "expires in 9 days" in slack.json()[0]["text"]


def test_a_failed_smoke_test_alerts_every_channel_through_the_default_hook(uptime_client):
    assert import_string(settings.DEPLOY_SMOKE_FAILED_HOOK) is alert_smoke_failed
    with Receiver() as slack:
        channel_for(uptime_client, "slack", slack.url)
        channel_for(uptime_client, "email", "oncall@example.com")
        deploy = Deploy.objects.create(client=uptime_client, environment="production", version="v2.4.1")
        gate.alert_smoke_failed(deploy)
        attempts = AlertAttempt.objects.filter(event=AlertAttempt.NOTICE)
        assert attempts.count() == 2
        for attempt in attempts:
            alerts.deliver(attempt.pk)
        assert "smoke test FAILED after the deploy of v2.4.1 to production" in slack.json()[0]["text"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["oncall@example.com"]
    assert "v2.4.1" in mail.outbox[0].body and "Dana On-call" in mail.outbox[0].body
    assert set(AlertAttempt.objects.values_list("status", flat=True)) == {AlertAttempt.SENT}


def test_an_incident_is_delivered_by_email_with_its_owner(ping_monitor, clock):
    from tests.testworld import monitor_sites

    channel_for(ping_monitor.client, "email", "oncall@example.com")
    monitor_sites.set_mode("down")
    clock.cycle()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["oncall@example.com"] and "Ping" in message.subject
    assert "Dana On-call" in message.body
    assert AlertAttempt.objects.get().status == AlertAttempt.SENT
