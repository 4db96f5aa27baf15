"""Acceptance (issue 7) against the test world: the switchable uptime endpoint and local Slack/webhook receivers."""

import json
from datetime import timedelta

import pytest

from apps.monitoring import alerts, service, storage
from apps.monitoring.models import AlertAttempt, AlertChannel, Incident, Monitor, ProbeResult, Rollup
from apps.monitoring.transports import sign
from tests.faults import free_port, resetting_server, send_mail_through, silent_server
from tests.testworld import monitor_sites
from tests.testworld.monitor_sites import Receiver

pytestmark = pytest.mark.django_db


def make_channel(client, kind, target, owner="Dana On-call", secret=""):
    channel = AlertChannel(client=client, kind=kind, name=f"{kind} channel", owner=owner)
    channel.target = target
    channel.secret = secret
    channel.save()
    return channel


def test_down_opens_one_confirmed_incident_one_alert_per_channel_and_recovery_closes_it(ping_monitor, clock):
    client = ping_monitor.client
    with Receiver() as slack, Receiver() as hook:
        make_channel(client, "slack", slack.url)
        make_channel(client, "webhook", hook.url, secret="s3cret")

        clock.cycle()
        ping_monitor.refresh_from_db()
        assert ping_monitor.state == Monitor.UP and not Incident.objects.exists()

        monitor_sites.set_mode("down")
        for _ in range(3):
            clock.cycle()
        incident = Incident.objects.get()
        assert incident.closed_at is None and "HTTP 404" in incident.cause
        assert ProbeResult.objects.filter(ok=False, rechecked=True).count() == 3  # every failure was re-checked
        assert len(slack.requests) == 1 and len(hook.requests) == 1
        assert "DOWN: Ping" in slack.json()[0]["text"] and "Owner: Dana On-call" in slack.json()[0]["text"]

        request = hook.requests[0]
        headers = {k.lower(): v for k, v in request["headers"].items()}
        expected = sign("s3cret", headers["x-launchready-timestamp"], request["body"])
        assert headers["x-launchready-signature"] == f"sha256={expected}"
        assert hook.json()[0]["owner"] == "Dana On-call" and hook.json()[0]["event"] == "down"

        monitor_sites.set_mode("up")
        clock.cycle()
        incident.refresh_from_db()
        assert incident.closed_at == clock.now and incident.duration == timedelta(minutes=3)
        assert [m["event"] for m in hook.json()] == ["down", "up"]
        assert "back up after 3 min" in slack.json()[1]["text"]
        assert AlertAttempt.objects.filter(status=AlertAttempt.SENT).count() == 4


def test_a_monitor_whose_url_or_redirect_is_odd_fails_alone_and_the_batch_is_probed(ping_monitor, clock):
    # One batch probes up to 100 monitors of many clients. A non-ASCII path (which the URL field accepts) or a
    # site redirecting to a malformed URL raised out of the batch: no monitor in it got a result, every cycle.
    due = ping_monitor.next_due
    odd = [Monitor.objects.create(client=ping_monitor.client, name=name, url=url, timeout_seconds=3, next_due=due)
           for name, url in (("Menu", f"https://{monitor_sites.UPTIME_HOST}/café menu"),
                             ("Bad hop", "https://redirector.lrtest/redirect?to=http://[broken/"))]
    clock.cycle()
    ping_monitor.refresh_from_db()
    assert ping_monitor.state == Monitor.UP and ProbeResult.objects.filter(monitor=ping_monitor, ok=True).exists()
    menu, bad_hop = (ProbeResult.objects.filter(monitor=m).latest("pk") for m in odd)
    assert not menu.ok and "HTTP 404" in menu.error  # the site's own answer to the encoded path
    assert not bad_hop.ok and "bad_redirect" in bad_hop.error


def test_a_flapping_endpoint_does_not_spam(ping_monitor, clock):
    with Receiver() as slack:
        make_channel(ping_monitor.client, "slack", slack.url)
        monitor_sites.set_mode("flapping")  # every other request fails: the re-check always contradicts
        for _ in range(4):
            clock.cycle()
        assert ProbeResult.objects.filter(rechecked=True).count() >= 1
        assert not Incident.objects.exists() and slack.requests == []

        # A real outage that comes and goes within the flap window re-opens the same incident. Whoever was told
        # "up" hears "down" again; after that the recovery waits until the site has stayed up for the window.
        for mode in ("down", "up", "down", "up", "down", "up"):
            monitor_sites.set_mode(mode)
            clock.cycle()
        assert Incident.objects.count() == 1
        assert [m["text"].split(":")[0] for m in slack.json()] == ["*DOWN", "*UP", "*DOWN"]
        for _ in range(9):
            clock.cycle()
        assert len(slack.requests) == 3  # still held back
        clock.cycle()
        assert [m["text"].split(":")[0] for m in slack.json()] == ["*DOWN", "*UP", "*DOWN", "*UP"]
        assert Incident.objects.get().closed_at is not None


def test_a_site_that_goes_down_again_after_its_recovery_was_announced_is_announced_down(ping_monitor, clock):
    # It was flap suppression's blind spot: reopened silently, the incident stayed open for hours while the last
    # thing anyone had heard was "UP".
    with Receiver() as slack:
        make_channel(ping_monitor.client, "slack", slack.url)
        for mode in ("down", "up", "down"):
            monitor_sites.set_mode(mode)
            clock.cycle()
        for _ in range(120):  # two hours down
            clock.cycle()
        assert [m["text"].split(":")[0] for m in slack.json()] == ["*DOWN", "*UP", "*DOWN"]
        assert Incident.objects.get().closed_at is None


def test_a_channel_answering_410_is_disabled_as_permanent(ping_monitor, clock):
    with Receiver(statuses=[410]) as gone:
        channel = make_channel(ping_monitor.client, "webhook", gone.url, secret="k")
        monitor_sites.set_mode("down")
        clock.cycle()
        clock.cycle(minutes=30)
        channel.refresh_from_db()
        assert not channel.enabled and "410" in channel.disabled_reason
        attempt = AlertAttempt.objects.get()  # no retry after a permanent error
        assert attempt.status == AlertAttempt.FAILED and attempt.permanent
        assert len(gone.requests) == 1


def test_a_channel_answering_500_is_retried_with_backoff(ping_monitor, clock):
    with Receiver(statuses=[500, 503]) as flaky:
        channel = make_channel(ping_monitor.client, "slack", flaky.url)
        monitor_sites.set_mode("down")
        clock.cycle()
        first = AlertAttempt.objects.get(number=1)
        assert first.status == AlertAttempt.FAILED and not first.permanent and "500" in first.error
        second = AlertAttempt.objects.get(number=2)
        assert second.status == AlertAttempt.PENDING and second.due_at == clock.now + alerts.backoff(2)
        for _ in range(4):  # minutes pass: attempt 2 (503) fails, attempt 3 waits its backoff, then gets through
            clock.cycle()
        assert list(AlertAttempt.objects.order_by("number").values_list("number", "status")) == [
            (1, "failed"), (2, "failed"), (3, "sent")]
        assert len(flaky.requests) == 3
        channel.refresh_from_db()
        assert channel.enabled


def test_a_rate_limited_channel_is_retried_not_disabled(ping_monitor, clock):
    # Several monitors failing together post to one Slack hook at once; Slack answers 429. Disabling the channel
    # for that would skip every later alert, the recovery included.
    with Receiver(statuses=[429]) as limited:
        channel = make_channel(ping_monitor.client, "slack", limited.url)
        monitor_sites.set_mode("down")
        clock.cycle()
        first = AlertAttempt.objects.get(number=1)
        assert first.status == AlertAttempt.FAILED and not first.permanent and "429" in first.error
        clock.cycle()  # attempt 2's backoff has passed: it gets through
        assert AlertAttempt.objects.get(number=2).status == AlertAttempt.SENT
        channel.refresh_from_db()
        assert channel.enabled and len(limited.requests) == 2


def test_a_redirecting_hook_is_a_failure_that_says_so_not_a_delivery(ping_monitor, clock):
    with Receiver(statuses=[301]) as moved:
        channel = make_channel(ping_monitor.client, "webhook", moved.url, secret="k")
        attempt = alerts.send_test_alert(channel)
        assert attempt.status == AlertAttempt.FAILED and attempt.permanent and "redirect" in attempt.error
        channel.refresh_from_db()
        assert channel.verified_at is None and not channel.enabled and "301" in channel.disabled_reason


def test_a_receiver_that_resets_the_connection_fails_the_attempt_as_transient(ping_monitor, clock):
    with resetting_server() as port:
        channel = make_channel(ping_monitor.client, "webhook", f"http://127.0.0.1:{port}/hook", secret="k")
        attempt = alerts.send_test_alert(channel)
    # answered, not left claimed (SENDING) where no tick would ever pick it up again
    assert attempt.status == AlertAttempt.FAILED and not attempt.permanent and "connection failed" in attempt.error
    assert AlertAttempt.objects.filter(channel=channel, number=2, status=AlertAttempt.PENDING).exists()


def test_an_attempt_whose_worker_died_mid_send_is_retried(ping_monitor, clock):
    # A worker killed while sending leaves its claimed attempt SENDING: no tick would pick it up again, and the
    # DOWN alert was lost. The minute sweep fails it as interrupted and queues the retry.
    with Receiver() as slack:
        channel = make_channel(ping_monitor.client, "slack", slack.url)
        monitor_sites.set_mode("down")
        clock.cycle()
        incident = Incident.objects.get()
        AlertAttempt.objects.all().delete()
        lost = AlertAttempt.objects.create(channel=channel, incident=incident, event="down", due_at=clock.now,
                                           status=AlertAttempt.SENDING, claimed_at=clock.now)
        sending = AlertAttempt.objects.create(channel=channel, incident=incident, event="down", due_at=clock.now,
                                              status=AlertAttempt.SENDING, claimed_at=clock.now + timedelta(minutes=2))
        later = clock.now + timedelta(minutes=2, seconds=30)
        assert alerts.recover_interrupted(later) == 1 and alerts.recover_interrupted(later) == 0
        lost.refresh_from_db()
        sending.refresh_from_db()
        assert lost.status == AlertAttempt.FAILED and "interrupted" in lost.error
        assert sending.status == AlertAttempt.SENDING  # still within its send time: left alone
        retry = AlertAttempt.objects.get(number=2)
        assert retry.status == AlertAttempt.PENDING and retry.due_at == later + alerts.backoff(2)
        clock.cycle(minutes=3)
        retry.refresh_from_db()
        assert retry.status == AlertAttempt.SENT and "DOWN: Ping" in slack.json()[-1]["text"]


def test_a_mail_server_that_hangs_fails_the_attempt_as_transient(ping_monitor, clock, settings):
    with silent_server() as port:
        send_mail_through(settings, port, timeout=0.3)
        channel = make_channel(ping_monitor.client, "email", "oncall@orbit.test")
        monitor_sites.set_mode("down")
        clock.cycle()
    first = AlertAttempt.objects.get(number=1)
    assert first.status == AlertAttempt.FAILED and not first.permanent and "mail server" in first.error
    assert AlertAttempt.objects.get(number=2).status == AlertAttempt.PENDING  # retried later, channel kept
    channel.refresh_from_db()
    assert channel.enabled


class RefusingMailServer:
    """A real SMTP server (aiosmtpd) on loopback that refuses every recipient with `reply` at RCPT."""

    def __init__(self, reply):
        self.reply = reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return self.reply


@pytest.mark.parametrize("reply, permanent", [("550 5.1.1 no such user here", True),
                                              ("450 4.2.1 mailbox busy, try later", False)])
def test_a_refused_alert_address_is_permanent_or_retried_by_the_servers_code(ping_monitor, clock, settings,
                                                                            reply, permanent):
    from aiosmtpd.controller import Controller

    controller = Controller(RefusingMailServer(reply), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        send_mail_through(settings, controller.port, timeout=5)
        channel = make_channel(ping_monitor.client, "email", "oncall@orbit.test")
        monitor_sites.set_mode("down")
        clock.cycle()
    finally:
        controller.stop()
    first = AlertAttempt.objects.get(number=1)
    assert first.status == AlertAttempt.FAILED and first.permanent is permanent
    assert f"refused the address ({reply[:3]}" in first.error
    channel.refresh_from_db()
    assert channel.enabled is not permanent  # a mistyped address disables the channel, with the reason shown
    assert AlertAttempt.objects.filter(number=2).exists() is not permanent  # a busy mailbox is tried again


def test_two_ticks_racing_dispatch_each_slot_once(uptime_client):
    from django.utils import timezone

    now = timezone.now()
    for i in range(30):
        Monitor.objects.create(client=uptime_client, name=f"m{i}", url=f"https://uptime.lrtest/{i}",
                               next_due=now - timedelta(seconds=i))
    first_reads, second_reads = service.find_due(now), service.find_due(now)  # both ticks read before either writes
    won_by_second = service.claim(second_reads, now)
    won_by_first = service.claim(first_reads, now)
    assert len(won_by_second) == 30 and won_by_first == []
    assert service.claim_due(now) == []  # the next tick at the same moment finds nothing due
    assert Monitor.objects.filter(next_due__lte=now).count() == 0


def test_a_redelivered_slot_is_recorded_once(ping_monitor, clock):
    slots = clock.cycle()
    service.run_slots(slots, now=clock.now)  # the same task delivered twice
    assert ProbeResult.objects.count() == 1


def test_storage_growth_is_bounded(ping_monitor, monkeypatch):
    """Fifteen simulated days of minute probing, rolled up and pruned each hour: row counts stop growing."""
    from django.utils import timezone

    monkeypatch.setattr(storage, "RAW_RETENTION", timedelta(hours=6))
    monkeypatch.setattr(storage, "MINUTE_RETENTION", timedelta(hours=6))
    monkeypatch.setattr(storage, "HOUR_RETENTION", timedelta(days=3))
    monkeypatch.setattr(storage, "DAY_RETENTION", timedelta(days=7))
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=15)
    sizes = {}
    for hour in range(15 * 24):
        base = start + timedelta(hours=hour)
        ProbeResult.objects.bulk_create([
            ProbeResult(monitor=ping_monitor, at=base + timedelta(minutes=m), slot=base + timedelta(minutes=m),
                        ok=m != 5, latency_ms=100 + m) for m in range(0, 60, 5)])
        now = base + timedelta(hours=1)
        storage.rollup(now)
        storage.prune(now)
        if hour % 24 == 23:
            sizes[hour // 24] = (ProbeResult.objects.count(), Rollup.objects.count())
    assert sizes[14] == sizes[10]  # steady state: nothing grows any more
    assert ProbeResult.objects.count() <= 6 * 12 + 12
    assert Rollup.objects.filter(period="hour").count() <= 3 * 24 + 1
    assert Rollup.objects.filter(period="day").count() <= 8
    day = Rollup.objects.filter(period="day").order_by("start")[1]
    assert day.probes == 24 * 12 and day.failures == 24 and day.p95_ms == 155


def test_secrets_are_encrypted_at_rest(uptime_client):
    channel = make_channel(uptime_client, "webhook", "https://hooks.example/secret-path", secret="hmac-key")
    stored = AlertChannel.objects.values("target_encrypted", "secret_encrypted").get(pk=channel.pk)
    assert "secret-path" not in json.dumps(stored) and "hmac-key" not in json.dumps(stored)
    fresh = AlertChannel.objects.get(pk=channel.pk)
    assert fresh.target == "https://hooks.example/secret-path" and fresh.secret == "hmac-key"
    assert fresh.target_hint == "https://hooks.example/…"


def test_probes_go_through_the_address_guard(ping_monitor, testworld):
    guarded = testworld.profile(allowed_networks=())  # the production guard: loopback is refused
    slots = service.claim_due(ping_monitor.next_due + timedelta(seconds=1))
    outcomes = service.run_slots(slots, profile=guarded)
    outcome = outcomes[ping_monitor.pk]
    assert not outcome.ok and outcome.error.startswith("refused_address")
    assert outcome.public_cause == "unreachable" and "127." not in outcome.public_cause


def test_pausing_a_down_monitor_ends_its_incident_and_a_probe_in_flight_changes_nothing(ping_monitor, clock, cast,
                                                                                        login):
    from django.urls import reverse

    from apps.monitoring.probe import Outcome
    from apps.sprints.models import ActivityEntry

    with Receiver() as slack:
        make_channel(ping_monitor.client, "slack", slack.url)
        monitor_sites.set_mode("down")
        for _ in range(2):
            clock.cycle()
        incident = Incident.objects.get()
        assert incident.closed_at is None and len(slack.requests) == 1
        # A consultant pauses it (planned work on the site). Before: the incident stayed open for the whole pause
        # and the status page counted the paused hours as one long outage.
        response = login(cast.alice).post(reverse("monitoring:monitor_control", kwargs={"monitor_id": ping_monitor.pk}),
                                          {"paused": "on", "maintenance_start": "", "maintenance_end": ""})
        assert response.status_code == 302
        incident.refresh_from_db()
        ping_monitor.refresh_from_db()
        assert incident.closed_at is not None and ping_monitor.paused and ping_monitor.state == Monitor.UNKNOWN
        assert ActivityEntry.objects.filter(client=ping_monitor.client, actor=cast.alice,
                                            text__contains="during an open incident").exists()
        # A probe that was already running when the pause landed is kept, but opens nothing.
        late = service.record(ping_monitor, Outcome(ok=False, error="HTTP 404", public_cause="unavailable"),
                              slot=clock.now + timedelta(minutes=1), now=clock.now + timedelta(seconds=30))
        assert late is not None and Incident.objects.filter(closed_at=None).count() == 0
        for _ in range(3):
            assert clock.cycle() == []  # paused: not probed
        assert len(slack.requests) == 1  # no "up" for a site nobody saw come back
        # Resumed while still down: the outage is reported again.
        Monitor.objects.filter(pk=ping_monitor.pk).update(paused=False)
        clock.cycle()
        clock.cycle()
        reopened = Incident.objects.get(closed_at=None)
        assert reopened.pk != incident.pk and len(slack.requests) == 2 and "DOWN: Ping" in slack.json()[1]["text"]
