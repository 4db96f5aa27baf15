"""POST /api/v1/deploys and the rollback against the test world: real smoke scans, real verdicts, real evidence."""

from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from apps.checks import pipeline
from apps.checks.models import ScanRun
from apps.clients.models import Client
from apps.deploys.models import Deploy, DeployToken
from apps.monitoring.models import AlertAttempt, AlertChannel
from apps.sprints.models import ActivityEntry

from .conftest import make_site

DEPLOYS = "/api/v1/deploys"
WAIT = 20  # the smoke scan runs on the worker; the answer waits for its verdict


def failing(answer, check):
    return [f for f in answer["failing_checks"] if f["check"] == check]


@pytest.mark.worker
def test_a_healthy_deploy_passes_and_fills_the_sprint(cast, scan_worker, healthy, orbit_token, api):
    response = api.post(DEPLOYS, {"environment": "production", "version": "v1.4.0",
                                  "changelog_url": "https://orbittutor.lrtest/changelog", "wait": WAIT}, orbit_token)
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["verdict"] == "pass" and answer["passed"] is True, answer["failing_checks"]
    assert answer["failing_checks"] == []
    deploy = Deploy.objects.get(pk=answer["id"])
    assert deploy.client == cast.orbit and deploy.sprint == cast.orbit_sprint
    assert answer["findings_url"].endswith(reverse("checks:detail", kwargs={"scanrun_id": deploy.scan_id}))
    assert answer["poll_url"].endswith(f"/api/v1/deploys/{deploy.pk}")
    checks = set(deploy.scan.findings.values_list("check_id", flat=True))
    assert checks == {"deploy.smoke", "tls.certificate", "http.https_redirect", "http.hsts"}
    smoke = deploy.scan.findings.filter(check_id="deploy.smoke")
    assert smoke.filter(status="pass").count() == 4  # homepage, login, health and one chat exchange
    assert smoke.filter(target__contains="bot.lrtest", summary__startswith="Chat API: Streams well").exists()
    items = {i.title: i for i in cast.orbit_sprint.items.all()}
    assert items["Smoke test passes after deploy"].status == "pass"
    repeatable = items["Deploys are repeatable from the runbook"]
    assert repeatable.status == "pass" and "v1.4.0" in repeatable.evidence_text
    assert items["Rollback path tested once"].status == "todo"  # a plain deploy proves no rollback
    log = list(ActivityEntry.objects.filter(client=cast.orbit).values_list("text", flat=True))
    assert any(t.startswith("called POST /api/v1/deploys with deploy token lrdt_") for t in log)
    assert any("smoke test passed after the deploy of v1.4.0" in t for t in log)
    # the readiness endpoint ignores smoke-only scans: there is still no full scan
    assert api.get(f"/api/v1/clients/{cast.orbit.pk}/readiness", orbit_token).json()["scan"] is None


@pytest.mark.worker
def test_health_endpoint_returning_500_fails(cast, scan_worker, world_state, orbit_token, api):
    make_site(cast.orbit, "orbittutor.lrtest", login="https://app.orbittutor.lrtest/login",
              health="https://orbittutor.lrtest/boom")
    answer = api.post(DEPLOYS, {"environment": "production", "version": "v2", "wait": WAIT}, orbit_token).json()
    assert answer["verdict"] == "fail" and answer["passed"] is False
    assert [f["reason"] for f in failing(answer, "deploy.smoke")] == ["The health page answered HTTP 500."]
    assert cast.orbit_sprint.items.get(title="Smoke test passes after deploy").status == "fail"
    assert cast.orbit_sprint.items.get(title="Deploys are repeatable from the runbook").status == "todo"


@pytest.mark.worker
def test_an_expired_certificate_fails(cast, scan_worker, world_state, orbit_token, api):
    make_site(cast.orbit, "expired.lrtest", hosts=(), chat_mode=None)
    answer = api.post(DEPLOYS, {"environment": "production", "version": "v3", "wait": WAIT}, orbit_token).json()
    assert answer["verdict"] == "fail"
    tls = failing(answer, "tls.certificate")
    assert tls and "expired" in tls[0]["reason"].lower(), answer["failing_checks"]


@pytest.mark.worker
def test_a_stalled_chat_stream_fails(cast, scan_worker, world_state, orbit_token, api):
    make_site(cast.orbit, "orbittutor.lrtest", login="https://app.orbittutor.lrtest/login",
              health="https://app.orbittutor.lrtest/health", chat_mode="stalled")
    answer = api.post(DEPLOYS, {"environment": "production", "version": "v4", "wait": WAIT}, orbit_token).json()
    assert answer["verdict"] == "fail"
    chat = failing(answer, "deploy.smoke")
    assert len(chat) == 1 and chat[0]["target"].startswith("https://bot.lrtest/stream/stalled/")
    assert "went silent" in chat[0]["reason"], chat


@pytest.mark.worker
def test_a_failed_smoke_alerts_the_clients_channels(cast, scan_worker, world_state, orbit_token, api):
    # The default DEPLOY_SMOKE_FAILED_HOOK (monitoring) queues one notice per channel, in whichever process concludes.
    channel = AlertChannel(client=cast.orbit, kind="email", name="On call", owner="Dana")
    channel.target = "oncall@orbit.test"
    channel.save()
    make_site(cast.orbit, "orbittutor.lrtest", health="https://orbittutor.lrtest/boom", chat_mode=None)
    answer = api.post(DEPLOYS, {"environment": "production", "version": "v5", "wait": WAIT}, orbit_token).json()
    assert answer["verdict"] == "fail"
    # Committed with the verdict, whichever process concluded it.
    notices = list(AlertAttempt.objects.filter(channel=channel).values_list("event", "text"))
    assert notices == [(AlertAttempt.NOTICE,
                        "The smoke test FAILED after the deploy of v5 to production: check the deploy's findings.")]


@pytest.mark.worker
def test_rollback_and_smoke_flips_the_rollback_item_once(cast, scan_worker, healthy, orbit_token, api):
    first = api.post(DEPLOYS, {"environment": "production", "version": "v2.0.0", "wait": WAIT}, orbit_token).json()
    response = api.post(f"{DEPLOYS}/{first['id']}/rollback",
                        {"version": "v1.9.3", "performed_by": "Dana (on call)", "wait": WAIT}, orbit_token)
    assert response.status_code == 201, response.content
    rollback = response.json()
    assert rollback["kind"] == "rollback" and rollback["rollback_of"] == first["id"]
    assert rollback["verdict"] == "pass" and rollback["performed_by"] == "Dana (on call)"
    item = cast.orbit_sprint.items.get(title="Rollback path tested once")
    assert item.status == "pass"
    assert "from v2.0.0 to v1.9.3 by Dana (on call)" in item.evidence_text
    assert item.evidence_link == rollback["findings_url"]
    # a later rollback does not rewrite the evidence of the first one
    api.post(f"{DEPLOYS}/{first['id']}/rollback", {"version": "v1.0.0", "wait": WAIT}, orbit_token)
    item.refresh_from_db()
    assert "v1.9.3" in item.evidence_text and "v1.0.0" not in item.evidence_text
    repeatable = cast.orbit_sprint.items.get(title="Deploys are repeatable from the runbook")
    assert repeatable.evidence_text.startswith("3 deploy(s)")


@pytest.mark.django_db
def test_without_wait_the_smoke_runs_on_the_workers_and_is_polled(cast, healthy, orbit_token, api,
                                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as published:
        answer = api.post(DEPLOYS, {"environment": "production", "version": "v7"}, orbit_token).json()
    assert published, "the scan's parts are published to the workers on commit"
    assert answer["verdict"] == "pending" and answer["passed"] is None
    deploy = Deploy.objects.get(pk=answer["id"])
    assert deploy.scan.state == ScanRun.QUEUED
    for part in deploy.scan.parts.all():  # what a worker does with each published part
        pipeline.run_part(part.pk)
    deploy.refresh_from_db()
    assert deploy.verdict == "pass"  # concluded by the pipeline's scan_finalized signal
    polled = api.get(urlsplit(answer["poll_url"]).path, orbit_token)
    assert polled.status_code == 200 and polled.json()["passed"] is True


@pytest.mark.worker
def test_a_staging_deploy_is_smoke_tested_on_the_staging_site_not_production(cast, scan_worker, healthy, api):
    staging_token = DeployToken.issue(client=cast.orbit, environment="staging", label="CI")[1]
    # Production (orbittutor.lrtest) is healthy; the staging site has no login page. Before: the staging deploy was
    # smoke-tested on production and passed.
    Client.objects.filter(pk=cast.orbit.pk).update(staging_url="https://good.lrtest/")
    answer = api.post(DEPLOYS, {"environment": "staging", "version": "rc1", "wait": WAIT}, staging_token).json()
    assert answer["verdict"] == "fail", answer
    assert [(f["target"], f["reason"]) for f in failing(answer, "deploy.smoke")] == [
        ("https://good.lrtest/login", "The login page answered HTTP 404.")]
    scan = Deploy.objects.get(pk=answer["id"]).scan
    targets = set(scan.findings.values_list("target", flat=True))
    assert not any("orbittutor" in t for t in targets), targets
    # Not the production sprint's scan: its checklist (the smoke item, HSTS, TLS) is not moved by staging.
    assert scan.sprint is None and not cast.orbit_sprint.items.exclude(check_id="").exclude(status="todo").exists()
    # A staging site with every page: passes, on its own pages (the hosted chat API stays as declared).
    Client.objects.filter(pk=cast.orbit.pk).update(staging_url="https://app.novachat.lrtest/")
    answer = api.post(DEPLOYS, {"environment": "staging", "version": "rc2", "wait": WAIT}, staging_token).json()
    assert answer["verdict"] == "pass", answer["failing_checks"]
    smoke = Deploy.objects.get(pk=answer["id"]).scan.findings.filter(check_id="deploy.smoke")
    assert set(smoke.values_list("target", flat=True)) == {
        "https://app.novachat.lrtest/", "https://app.novachat.lrtest/login", "https://app.novachat.lrtest/health",
        "https://bot.lrtest/stream/good/v1/chat/completions"}
