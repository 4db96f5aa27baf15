"""Daily re-scans: the consultant's switch, the beat tick that starts due scans once, the email when things got worse."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from apps.checks import pipeline, rescans
from apps.checks.models import DailyRescan, Finding, ScanRun
from apps.sprints.models import Sprint


def daily_url(client):
    return reverse("checks:daily_rescan", kwargs={"client_id": client.pk})


def finished_scan(client, sprint, verdicts, *, scheduled=False, score_shift=0):
    """A scan of client with findings {(check_id, target): (status, severity)}, finalized like the pipeline does."""
    scan = ScanRun.objects.create(client=client, sprint=sprint, profile="testworld", domain=client.domain,
                                  state=ScanRun.RUNNING, options={"only": [], "scheduled": scheduled})
    Finding.objects.bulk_create(
        Finding(scan=scan, check_id=check, target=target, status=status, severity=severity, summary=f"{check} {status}")
        for (check, target), (status, severity) in verdicts.items())
    assert pipeline.finalize(scan)
    scan.refresh_from_db()
    return scan


HEALTHY = {("http.hsts", "orbit.example"): ("pass", "medium"), ("tls.certificate", "orbit.example"): ("pass", "blocker")}


def test_a_consultant_turns_the_daily_rescan_on_and_off(cast, login):
    web = login(cast.bob)
    page = reverse("checks:client_scans", kwargs={"client_id": cast.orbit.pk})
    assert 'name="enabled"' in web.get(page).content.decode()
    response = web.post(daily_url(cast.orbit), {"enabled": "on"})
    assert response.status_code == 302 and response.url == page
    schedule = DailyRescan.objects.get(client=cast.orbit)
    assert schedule.enabled
    assert timedelta(hours=23) < schedule.next_run_at - timezone.now() <= timedelta(days=1)
    assert "checked" in web.get(page).content.decode()
    web.post(daily_url(cast.orbit), {})
    schedule.refresh_from_db()
    assert not schedule.enabled


@pytest.mark.parametrize("value", ["<script>alert(1)</script>", "x" * 5000, "ünïcödé", ["on", "off"], "2026-13-45"])
def test_malformed_values_never_break_the_switch(cast, login, value):
    response = login(cast.bob).post(daily_url(cast.orbit), {"enabled": value})
    assert response.status_code == 302
    assert DailyRescan.objects.filter(client=cast.orbit).count() == 1


def test_it_checks_ownership(cast, login):
    for user, client in ((cast.charlie, cast.orbit), (cast.fiona, cast.orbit), (cast.fiona, cast.nova)):
        assert login(user).post(daily_url(client), {"enabled": "on"}).status_code == 404
    assert not DailyRescan.objects.exists()
    founder_page = login(cast.fiona).get(reverse("checks:client_scans", kwargs={"client_id": cast.nova.pk}))
    assert founder_page.status_code == 200 and 'name="enabled"' not in founder_page.content.decode()


def test_the_tick_starts_each_due_scan_once(cast, monkeypatch, django_capture_on_commit_callbacks):
    now = timezone.now()
    due = rescans.set_daily_rescan(cast.orbit, True, now=now - timedelta(days=1))
    rescans.set_daily_rescan(cast.nova, True, now=now)  # enabled just now: due tomorrow
    rescans.set_daily_rescan(cast.rival, False)
    published = []
    monkeypatch.setattr(pipeline, "dispatch", lambda ids: published.extend(ids) or True)
    with django_capture_on_commit_callbacks(execute=True):
        assert rescans.start_due_rescans(now=now) == 1
        assert rescans.start_due_rescans(now=now) == 0  # claimed: a second tick (or beat) starts nothing more
    scan = ScanRun.objects.get(client=cast.orbit)
    assert scan.options["scheduled"] and scan.sprint == cast.orbit_sprint and scan.requested_by is None
    assert set(published) == set(scan.parts.values_list("pk", flat=True))
    due.refresh_from_db()
    assert due.last_scan == scan and due.next_run_at == now + timedelta(days=1)
    assert not ScanRun.objects.filter(client=cast.nova).exists()


def test_a_client_without_an_active_or_handed_over_sprint_is_not_scanned(cast):
    Sprint.objects.filter(client=cast.orbit).update(status=Sprint.CLOSED)
    rescans.set_daily_rescan(cast.orbit, True, now=timezone.now() - timedelta(days=2))
    assert rescans.start_due_rescans() == 0
    assert not ScanRun.objects.exists()
    assert DailyRescan.objects.get(client=cast.orbit).next_run_at > timezone.now()  # tried again tomorrow
    Sprint.objects.filter(client=cast.orbit).update(status=Sprint.HANDED_OVER)
    assert rescans.sprint_to_rescan(cast.orbit) == cast.orbit_sprint


def test_a_scheduled_scan_that_finds_a_new_blocker_mails_the_consultants(cast):
    finished_scan(cast.orbit, cast.orbit_sprint, HEALTHY)
    assert mail.outbox == []
    worse = dict(HEALTHY)
    worse[("tls.certificate", "orbit.example")] = ("fail", "blocker")
    scan = finished_scan(cast.orbit, cast.orbit_sprint, worse, scheduled=True)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["alice@acme.test", "bob@acme.test"]  # consultants only, never the founder
    # (the score before is below 100: monitoring adds obs.monitors/obs.health, failing for an unmonitored client)
    assert "Orbit Chat" in message.subject and re.search(r"score dropped \d+ → 59", message.subject)
    assert "1 new blocker" in message.subject
    assert "tls.certificate on orbit.example" in message.body
    assert reverse("checks:detail", kwargs={"scanrun_id": scan.pk}) in message.body


def test_no_mail_when_nothing_got_worse_or_a_person_ran_the_scan(cast):
    finished_scan(cast.orbit, cast.orbit_sprint, HEALTHY)
    finished_scan(cast.orbit, cast.orbit_sprint, HEALTHY, scheduled=True)
    worse = {**HEALTHY, ("http.hsts", "orbit.example"): ("fail", "medium")}
    finished_scan(cast.orbit, cast.orbit_sprint, worse)  # a consultant pressed "Run scan": they see it
    assert mail.outbox == []
    finished_scan(cast.orbit, cast.orbit_sprint, {**worse, ("http.hsts", "orbit.example"): ("pass", "medium")},
                  scheduled=True)
    assert mail.outbox == []  # better than the scan before: no alert


def test_an_existing_blocker_without_a_score_drop_is_not_news(cast):
    broken = {**HEALTHY, ("tls.certificate", "orbit.example"): ("fail", "blocker")}
    finished_scan(cast.orbit, cast.orbit_sprint, broken)
    finished_scan(cast.orbit, cast.orbit_sprint, broken, scheduled=True)
    assert mail.outbox == []
