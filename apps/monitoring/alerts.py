"""Delivering alert attempts: claim a pending attempt by a conditional UPDATE, send it, record what happened,
schedule the next attempt with backoff for a transient error, disable the channel on a permanent one."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from .models import AlertAttempt, AlertChannel
from .transports import TransportError, message_for, transport_for

logger = logging.getLogger(__name__)

BACKOFF_SECONDS = (0, 30, 120, 600)  # before attempt 1, 2, 3, 4
INTERRUPTED_AFTER = timedelta(minutes=2)  # a send that has not finished by then was cut off with its worker


def backoff(number: int) -> timedelta:
    return timedelta(seconds=BACKOFF_SECONDS[min(number - 1, len(BACKOFF_SECONDS) - 1)])


def due_attempt_ids(now=None, limit: int = 500) -> list:
    now = now or timezone.now()
    return list(AlertAttempt.objects.filter(status=AlertAttempt.PENDING, due_at__lte=now)
                .values_list("id", flat=True)[:limit])


def deliver(attempt_id, now=None) -> AlertAttempt | None:
    """Send one pending attempt if we win its claim; returns it (None when someone else has it)."""
    now = now or timezone.now()
    if AlertAttempt.objects.filter(pk=attempt_id, status=AlertAttempt.PENDING).update(
            status=AlertAttempt.SENDING, claimed_at=now) != 1:
        return None
    attempt = AlertAttempt.objects.select_related("channel__client", "incident__monitor").get(pk=attempt_id)
    channel = attempt.channel
    # A test alert is how a person checks a disabled channel again; real alerts skip it.
    if not channel.enabled and attempt.event != AlertAttempt.TEST:
        return _finish(attempt, AlertAttempt.FAILED, f"channel disabled: {channel.disabled_reason}", now)
    incident = attempt.incident
    message = message_for(attempt.event, client=channel.client, monitor=incident.monitor if incident else None,
                          incident=incident, owner=channel.owner, notice=attempt.text)
    try:
        transport_for(channel).notify(message)
        error = None
    except TransportError as exc:
        error = exc
    except Exception as exc:  # a bug or an error nobody classified: retried, never left claimed and unsent
        logger.exception("alert attempt %s: unexpected error from the %s transport", attempt.pk, channel.kind)
        error = TransportError(f"unexpected error: {exc.__class__.__name__}")
    if error is not None:
        attempt.permanent = error.permanent
        _finish(attempt, AlertAttempt.FAILED, error.message, now)
        if error.permanent:
            channel.disable(f"{error.message} (attempt {attempt.number}, {now:%Y-%m-%d %H:%M} UTC)")
        else:
            _retry(attempt, now)
        return attempt
    if attempt.event == AlertAttempt.TEST:
        AlertChannel.objects.filter(pk=channel.pk).update(verified_at=now, enabled=True, disabled_reason="")
    return _finish(attempt, AlertAttempt.SENT, "", now)


def _retry(attempt, now):
    if attempt.number < AlertAttempt.MAX_ATTEMPTS:
        AlertAttempt.objects.create(channel_id=attempt.channel_id, incident_id=attempt.incident_id,
                                    event=attempt.event, text=attempt.text, number=attempt.number + 1,
                                    due_at=now + backoff(attempt.number + 1))


def recover_interrupted(now=None) -> int:
    """Attempts left SENDING by a worker that died mid-send (killed, out of memory, a lost machine): nobody would
    ever pick them up again. A send takes at most the transports' timeouts (10 s); after INTERRUPTED_AFTER the
    attempt is failed as interrupted and retried like a transient error. Claimed by a conditional UPDATE, so two
    sweeps never retry one attempt twice. Returns how many were recovered."""
    now = now or timezone.now()
    recovered = 0
    for attempt in AlertAttempt.objects.filter(status=AlertAttempt.SENDING,
                                               claimed_at__lt=now - INTERRUPTED_AFTER).order_by()[:500]:
        if AlertAttempt.objects.filter(pk=attempt.pk, status=AlertAttempt.SENDING).update(
                status=AlertAttempt.FAILED, error="interrupted: the worker sending it stopped", finished_at=now) != 1:
            continue
        logger.warning("alert attempt %s was interrupted mid-send; retrying", attempt.pk)
        _retry(attempt, now)
        recovered += 1
    return recovered


def _finish(attempt, status, error, now):
    attempt.status, attempt.error, attempt.finished_at = status, error[:300], now
    attempt.save(update_fields=["status", "error", "finished_at", "permanent"])
    return attempt


def send_test_alert(channel: AlertChannel) -> AlertAttempt:
    """The "send test alert" button: one attempt, delivered now, so the person sees the result at once."""
    attempt = AlertAttempt.objects.create(channel=channel, event=AlertAttempt.TEST)
    return deliver(attempt.pk)
