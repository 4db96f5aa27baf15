"""Monitoring screens through the Django test client: ownership, forms with malformed values, the test-alert
button, the operations view and the public status page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.monitoring.models import AlertAttempt, AlertChannel, Incident, Monitor, Rollup, StatusPage
from tests.testworld.monitor_sites import Receiver

pytestmark = pytest.mark.django_db

MALFORMED = ["x" * 5001, "<script>alert(1)</script>", "𝔘𝔫𝔦 ‮ \u200b", "abc\x00def", "-99999999999999999999",
             "2026-02-31T25:61", "javascript:alert(1)"]


def ops(client):
    return reverse("monitoring:operations", kwargs={"client_id": client.pk})


def channel_for(client, target, kind="slack", owner="Dana On-call"):
    channel = AlertChannel(client=client, kind=kind, name="Ops Slack", owner=owner)
    channel.target = target
    channel.save()
    return channel


def test_it_checks_ownership(cast, login):
    monitor = Monitor.objects.create(client=cast.orbit, name="Home", url="https://orbit.example/")
    channel = channel_for(cast.orbit, "https://hooks.slack.example/x")
    urls = [ops(cast.orbit), reverse("monitoring:monitor_add", kwargs={"client_id": cast.orbit.pk}),
            reverse("monitoring:channel_add", kwargs={"client_id": cast.orbit.pk}),
            reverse("monitoring:status_page_toggle", kwargs={"client_id": cast.orbit.pk}),
            reverse("monitoring:monitor_edit", kwargs={"monitor_id": monitor.pk}),
            reverse("monitoring:monitor_control", kwargs={"monitor_id": monitor.pk}),
            reverse("monitoring:channel_test", kwargs={"alertchannel_id": channel.pk})]
    for outsider in (cast.charlie, cast.fiona):  # another workspace; the founder of acme's other client
        browser = login(outsider)
        for url in urls:
            assert browser.get(url).status_code == 404, url
            assert browser.post(url, {"paused": "on", "name": "x"}).status_code == 404, url
    assert not StatusPage.objects.exists() and not AlertAttempt.objects.exists()
    monitor.refresh_from_db()
    assert not monitor.paused


def test_founders_see_and_pause_their_own_monitors_but_not_add_them(cast, login):
    monitor = Monitor.objects.create(client=cast.nova, name="Home", url="https://nova.example/")
    browser = login(cast.fiona)
    page = browser.get(ops(cast.nova))
    assert page.status_code == 200 and b"Home" in page.content
    assert browser.get(reverse("monitoring:monitor_add", kwargs={"client_id": cast.nova.pk})).status_code == 404
    assert browser.get(reverse("monitoring:monitor_edit", kwargs={"monitor_id": monitor.pk})).status_code == 404
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(hours=1)
    response = browser.post(reverse("monitoring:monitor_control", kwargs={"monitor_id": monitor.pk}), {
        "paused": "", "maintenance_start": start.strftime("%Y-%m-%dT%H:%M"),
        "maintenance_end": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    monitor.refresh_from_db()
    assert monitor.maintenance_end - monitor.maintenance_start == timedelta(hours=2)
    assert monitor.in_maintenance(start + timedelta(minutes=5)) and not monitor.in_maintenance()


def test_maintenance_window_must_be_complete_and_ordered(cast, login):
    monitor = Monitor.objects.create(client=cast.nova, name="Home", url="https://nova.example/")
    url = reverse("monitoring:monitor_control", kwargs={"monitor_id": monitor.pk})
    browser = login(cast.alice)
    assert b"must end after" in browser.post(url, {"maintenance_start": "2026-12-01T10:00",
                                                   "maintenance_end": "2026-12-01T09:00"}).content
    assert b"or neither" in browser.post(url, {"maintenance_start": "2026-12-01T10:00"}).content
    for value in MALFORMED:
        response = browser.post(url, {"maintenance_start": value, "maintenance_end": value, "paused": value})
        assert response.status_code == 200 and b"field-error" in response.content


def test_adding_a_monitor_on_the_clients_domain(cast, login):
    browser = login(cast.bob)
    url = reverse("monitoring:monitor_add", kwargs={"client_id": cast.orbit.pk})
    response = browser.post(url, {"name": "Login", "url": "https://app.orbit.example/login", "interval_seconds": 30,
                                  "timeout_seconds": 5, "expected_status": 200, "keyword": "password"})
    assert response.status_code == 302
    monitor = Monitor.objects.get()
    assert (monitor.client, monitor.interval_seconds, monitor.keyword) == (cast.orbit, 30, "password")


def test_a_monitor_can_take_its_url_from_an_endpoint(cast, login):
    endpoint = cast.orbit.endpoints.create(kind="health", url="https://orbit.example/health")
    response = login(cast.alice).post(reverse("monitoring:monitor_add", kwargs={"client_id": cast.orbit.pk}), {
        "name": "Health", "endpoint": endpoint.pk, "url": "", "interval_seconds": 60, "timeout_seconds": 10,
        "expected_status": 200, "json_field": "ok"})
    assert response.status_code == 302
    assert Monitor.objects.get().url == "https://orbit.example/health"


def test_monitor_form_refuses_bad_values(cast, login):
    browser = login(cast.alice)
    url = reverse("monitoring:monitor_add", kwargs={"client_id": cast.orbit.pk})
    good = {"name": "Home", "url": "https://orbit.example/", "interval_seconds": 60, "timeout_seconds": 10,
            "expected_status": 200}
    cases = [{"url": "https://rival.example/"}, {"url": "ftp://orbit.example/"}, {"interval_seconds": 5},
             {"interval_seconds": 601}, {"timeout_seconds": 0}, {"expected_status": 99}, {"url": ""}]
    cases += [{key: value} for value in ("x" * 5001, "abc\x00def") for key in good]
    for change in cases:
        response = browser.post(url, {**good, **change})
        assert response.status_code == 200, change
        assert b"field-error" in response.content or b"form-errors" in response.content, change
    assert not Monitor.objects.exists()
    for value in MALFORMED:  # whatever else comes in is refused or stored and shown escaped, never a 500
        for key in good:
            assert browser.post(url, {**good, key: value}).status_code in (200, 302)
    assert "<script>alert(1)" not in browser.get(ops(cast.orbit)).content.decode()


def test_channel_form_refuses_bad_values(cast, login):
    browser = login(cast.alice)
    url = reverse("monitoring:channel_add", kwargs={"client_id": cast.orbit.pk})
    good = {"kind": "webhook", "name": "Hook", "owner": "Dana", "target": "https://hooks.orbit.example/lr",
            "secret": "k"}
    cases = [{"kind": "pigeon"}, {"secret": ""}, {"kind": "email", "target": "not-an-address"},
             {"kind": "slack", "target": "http://hooks.slack.example/x"}, {"target": "https://"}]
    cases += [{key: value} for value in ("x" * 5001, "abc\x00def") for key in good]
    cases += [{"target": value} for value in MALFORMED]
    for change in cases:
        response = browser.post(url, {**good, **change})
        assert response.status_code == 200, change
        assert b"field-error" in response.content or b"form-errors" in response.content, change
    assert not AlertChannel.objects.exists()
    for value in MALFORMED:
        for key in ("name", "owner", "secret"):
            assert browser.post(url, {**good, key: value}).status_code in (200, 302)
    assert "<script>alert(1)" not in browser.get(ops(cast.orbit)).content.decode()
    AlertChannel.objects.all().delete()
    assert browser.post(url, good).status_code == 302
    channel = AlertChannel.objects.get()
    assert channel.target == good["target"] and channel.secret == "k" and channel.owner == "Dana"


def test_send_test_alert_button_delivers_and_verifies_the_channel(uptime_client, cast, login):
    with Receiver() as slack:
        channel = channel_for(uptime_client, slack.url)
        response = login(cast.fiona if uptime_client == cast.nova else cast.alice).post(
            reverse("monitoring:channel_test", kwargs={"alertchannel_id": channel.pk}), follow=True)
        assert b"Test alert delivered" in response.content
        assert "Owner: Dana On-call" in slack.json()[0]["text"]
    channel.refresh_from_db()
    assert channel.verified_at is not None
    assert AlertAttempt.objects.get().event == "test"


def test_a_failed_test_alert_says_why(uptime_client, cast, login):
    with Receiver(statuses=[500]) as slack:
        channel = channel_for(uptime_client, slack.url)
        response = login(cast.alice).post(reverse("monitoring:channel_test", kwargs={"alertchannel_id": channel.pk}),
                                          follow=True)
    assert b"failed" in response.content and b"500" in response.content
    channel.refresh_from_db()
    assert channel.verified_at is None


def test_operations_view_answers_is_it_up(cast, login):
    now = timezone.now()
    up = Monitor.objects.create(client=cast.orbit, name="Homepage", url="https://orbit.example/", state="up")
    down = Monitor.objects.create(client=cast.orbit, name="Chat API", url="https://orbit.example/chat", state="down")
    for h in range(5):
        Rollup.objects.create(monitor=up, period="hour", start=now - timedelta(hours=h + 1), probes=60, failures=0,
                              p50_ms=80, p95_ms=120 + h)
    Rollup.objects.create(monitor=down, period="hour", start=now - timedelta(hours=1), probes=60, failures=6)
    Incident.objects.create(monitor=down, opened_at=now - timedelta(minutes=12), cause="HTTP 502 (expected 200)",
                            public_cause="HTTP 502")
    channel_for(cast.orbit, "https://hooks.slack.example/secret-token")
    page = login(cast.bob).get(ops(cast.orbit))
    html = page.content.decode()
    assert "something is down" in html and "1 open incident" in html
    assert "100.00 %" in html and "90.00 %" in html
    assert '<svg class="sparkline"' in html
    assert "Dana On-call" in html and "secret-token" not in html


def test_the_public_status_page_is_opt_in_and_shows_no_internals(cast, login, client):
    now = timezone.now()
    monitor = Monitor.objects.create(client=cast.orbit, name="Homepage", url="https://orbit.example/", state="up")
    Incident.objects.create(monitor=monitor, opened_at=now - timedelta(days=2), closed_at=now - timedelta(days=2) +
                            timedelta(minutes=7), cause="connect_refused: orbit.example (10.1.2.3) refused",
                            public_cause="unreachable")
    Rollup.objects.create(monitor=monitor, period="day", start=now.replace(hour=0, minute=0, second=0,
                                                                            microsecond=0), probes=100, failures=0)
    toggle = reverse("monitoring:status_page_toggle", kwargs={"client_id": cast.orbit.pk})
    login(cast.alice).post(toggle)
    page = StatusPage.objects.get(client=cast.orbit)
    assert page.enabled and len(page.token) >= 32
    client.logout()
    html = client.get(reverse("monitoring:status_page", kwargs={"token": page.token})).content.decode()
    assert "All systems operational" in html and "unreachable" in html and "resolved after 7 min" in html
    assert html.count('class="uptime-bar ') == 90 and "uptime-pass" in html
    for internal in ("10.1.2.3", "connect_refused", "orbit.example/", "private note"):
        assert internal not in html
    assert client.get(reverse("monitoring:status_page", kwargs={"token": "guess"})).status_code == 404
    login(cast.alice).post(toggle)
    client.logout()
    assert client.get(reverse("monitoring:status_page", kwargs={"token": page.token})).status_code == 404


def test_a_test_alert_re_enables_a_channel_that_works_again(uptime_client, cast, login):
    with Receiver() as slack:
        channel = channel_for(uptime_client, slack.url)
        channel.disable("the receiver answered 410")
        login(cast.alice).post(reverse("monitoring:channel_test", kwargs={"alertchannel_id": channel.pk}))
        assert len(slack.requests) == 1
    channel.refresh_from_db()
    assert channel.enabled and channel.disabled_reason == "" and channel.verified_at is not None


def test_the_test_alert_button_only_posts(cast, login):
    channel = channel_for(cast.orbit, "https://hooks.slack.example/x")
    response = login(cast.alice).get(reverse("monitoring:channel_test", kwargs={"alertchannel_id": channel.pk}))
    assert response.status_code == 405 and not AlertAttempt.objects.exists()
