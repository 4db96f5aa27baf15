"""Fulfilment, following Stripe's guidance: one `fulfill(session_id)` called from the webhook and from the success
page, safe to run any number of times, concurrently. It re-retrieves the Checkout Session (never trusts the caller),
checks payment_status, and claims the order with a conditional UPDATE so exactly one caller starts the scan.
"""

import logging

import stripe
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from apps.checks import pipeline
from apps.checks.engine import Target

from . import emails, stripe_api
from .models import ScoreOrder, StripeEvent

log = logging.getLogger(__name__)

PAID_STATUSES = ("paid", "no_payment_required")


def _order_for_session(session):
    order = ScoreOrder.objects.filter(checkout_session_id=session["id"]).first()
    if order is None or str(order.pk) != (session.get("client_reference_id") or ""):
        log.warning("checkout session %s matches no order of ours", session["id"])
        return None
    return order


def fulfill(session_id: str) -> ScoreOrder | None:
    """Mark the session's order paid and start its one scan; a no-op when unpaid or already fulfilled."""
    session = stripe_api.retrieve_session(session_id)
    order = _order_for_session(session)
    if order is None:
        return None
    if session.get("payment_status") not in PAID_STATUSES:
        return order  # an async payment method still pending: checkout.session.async_payment_* decides later
    if session.get("amount_total") != order.amount or (session.get("currency") or "").lower() != order.currency.lower():
        log.error("session %s amount %s %s does not match order %s", session_id, session.get("amount_total"),
                  session.get("currency"), order.pk)
        return order
    order.advance(ScoreOrder.PAID, paid_at=timezone.now(), payment_intent_id=session.get("payment_intent") or "")
    start_scan_once(order)
    order.refresh_from_db()
    return order


def start_scan_once(order: ScoreOrder) -> bool:
    """Claim paid → scanning (only one caller's UPDATE changes the row) and start the passive scan in the same
    transaction; the scan's tasks and the buyer's email go out after it commits."""
    with transaction.atomic():
        if not ScoreOrder.objects.filter(pk=order.pk, state=ScoreOrder.PAID).update(state=ScoreOrder.SCANNING):
            return False
        # Passive checks only (start_scan never plans active families): the buyer has not verified the domain.
        scan = pipeline.start_scan(target=Target.build(order.domain), profile=settings.SELF_SERVE_PROFILE)
        ScoreOrder.objects.filter(pk=order.pk).update(scan=scan, scan_attempts=1)
        order_id = order.pk
        # robust: a mail server being down is logged, never undoes or repeats the fulfilment.
        transaction.on_commit(lambda: emails.send_score_link(order_id), robust=True)
    return True


# A paid order whose scan measured nothing (no worker ran it before its deadline) is scanned once more.
SCAN_ATTEMPTS = 2


def rescan_or_fail(order: ScoreOrder) -> bool:
    """For a scanning order whose scan failed: start another scan (one caller wins the conditional UPDATE on the
    failed scan and the attempt count), or fail the order once SCAN_ATTEMPTS scans failed. True if this call
    started a scan."""
    failed = order.scan
    if order.scan_attempts >= SCAN_ATTEMPTS:
        log.error("self-serve order %s: scan %s failed (%s), no attempt left", order.pk, failed.pk,
                  failed.failure_reason)
        order.advance(ScoreOrder.FAILED,
                      failure_reason=f"{SCAN_ATTEMPTS} scans failed; the last: {failed.failure_reason}"[:500])
        return False
    with transaction.atomic():
        if not ScoreOrder.objects.filter(pk=order.pk, state=ScoreOrder.SCANNING, scan=failed,
                                         scan_attempts=order.scan_attempts).update(
                                             scan_attempts=order.scan_attempts + 1):
            return False
        log.warning("self-serve order %s: scan %s failed (%s), scanning again", order.pk, failed.pk,
                    failed.failure_reason)
        scan = pipeline.start_scan(target=Target.build(order.domain), profile=settings.SELF_SERVE_PROFILE)
        ScoreOrder.objects.filter(pk=order.pk).update(scan=scan)
    order.scan, order.scan_attempts = scan, order.scan_attempts + 1
    return True


def fail_payment(session_id: str) -> ScoreOrder | None:
    session = stripe_api.retrieve_session(session_id)
    order = _order_for_session(session)
    if order is None or session.get("payment_status") in PAID_STATUSES:
        return order
    # Only an unpaid order can fail its payment; a late "failed" never undoes a payment.
    ScoreOrder.objects.filter(pk=order.pk, state=ScoreOrder.CREATED).update(
        state=ScoreOrder.FAILED, failure_reason="The payment did not go through.")
    return order


def refund(charge: dict) -> ScoreOrder | None:
    """A fully refunded charge marks its order refunded (the score page stays, marked so)."""
    if not charge.get("refunded"):
        return None  # a partial refund leaves the order as it is
    intent = charge.get("payment_intent") or ""
    if not intent:
        return None
    order = ScoreOrder.objects.filter(payment_intent_id=intent).first()
    if order is None:
        # The refund arrived before the payment was recorded (events out of order): find the session by its intent.
        for session in stripe_api.sessions_for_payment_intent(intent):
            order = _order_for_session(session)
            if order:
                ScoreOrder.objects.filter(pk=order.pk, payment_intent_id="").update(payment_intent_id=intent)
                break
    if order is not None:
        order.advance(ScoreOrder.REFUNDED, refunded_at=timezone.now())
    return order


HANDLERS = {
    "checkout.session.completed": lambda obj: fulfill(obj["id"]),
    "checkout.session.async_payment_succeeded": lambda obj: fulfill(obj["id"]),
    "checkout.session.async_payment_failed": lambda obj: fail_payment(obj["id"]),
    "charge.refunded": refund,
}


def process_event(event_pk: int) -> None:
    """Handle one recorded event (the Celery task's body); handlers are idempotent, so a redelivery is harmless."""
    event = StripeEvent.objects.filter(pk=event_pk, processed_at=None).first()
    if event is None:
        return
    handler = HANDLERS.get(event.type)
    if handler is not None:
        obj = (event.payload.get("data") or {}).get("object") or {}
        if obj.get("id"):
            handler(obj)
    StripeEvent.objects.filter(pk=event.pk, processed_at=None).update(processed_at=timezone.now())


EVENT_ATTEMPTS = 10
TRANSIENT_ERRORS = (stripe.APIConnectionError, stripe.RateLimitError, OperationalError, InterfaceError)


def catch_up(now=None, *, older_than_seconds=120, batch=100) -> int:
    """The periodic safety net: process events whose task was lost or gave up, and settle scanning orders whose
    scan has finished (the pages do that too, lazily). Safe to run alongside the tasks: all of it is idempotent."""
    from datetime import timedelta

    from apps.checks.models import ScanRun

    now = now or timezone.now()
    # Fewest failures first, so events that keep failing cannot fill the batch ahead of new ones; after
    # EVENT_ATTEMPTS failures an event is left to an operator (the admin lists it with its last error).
    pending = list(StripeEvent.objects.filter(
        processed_at=None, attempts__lt=EVENT_ATTEMPTS, received_at__lt=now - timedelta(seconds=older_than_seconds),
    ).order_by("attempts", "received_at").values_list("pk", flat=True)[:batch])
    for pk in pending:
        try:
            process_event(pk)
        except Exception as exc:  # noqa: BLE001 - one bad event must not stop the others; it stays pending
            log.exception("stripe event %s could not be processed", pk)
            # An outage (Stripe unreachable or rate limiting, our database briefly gone) is no fault of the
            # event's: only other errors count towards giving up on it.
            failed = {"last_error": f"{type(exc).__name__}: {exc}"[:500]}
            if not isinstance(exc, TRANSIENT_ERRORS):
                failed["attempts"] = F("attempts") + 1
            StripeEvent.objects.filter(pk=pk).update(**failed)
    for order in ScoreOrder.objects.select_related("scan").filter(
            state=ScoreOrder.SCANNING, scan__state__in=[ScanRun.DONE, ScanRun.FAILED])[:batch]:
        order.sync_with_scan()
    return len(pending)
