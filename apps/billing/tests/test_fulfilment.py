"""Webhooks and fulfilment: signatures, replays, out-of-order events, async payments, refunds, the score page."""

import time

import pytest
from django.core import mail
from django.urls import reverse

from apps.billing import fulfilment
from apps.billing.models import ScoreOrder, StripeEvent
from apps.checks.models import Finding, ScanRun

pytestmark = pytest.mark.django_db


def _score_page(shop, order):
    return shop.client.get(reverse("billing:score", kwargs={"token": order.access_token}))


def _finish_scan(order, *, score=72, grade="C", decision="no-go"):
    """Stand-in for the pipeline (exercised for real in test_happy_path): the scan done with two findings."""
    order.refresh_from_db()
    Finding.objects.create(scan=order.scan, check_id="dns.caa", target=order.domain, status="fail",
                           severity="blocker", summary="No CAA record.", remediation="Add a CAA record.")
    Finding.objects.create(scan=order.scan, check_id="http.hsts", target=order.domain, status="pass",
                           severity="medium", summary="HSTS is on.")
    ScanRun.objects.filter(pk=order.scan_id).update(state=ScanRun.DONE, score=score, grade=grade, decision=decision)


def test_paying_starts_one_passive_scan_and_emails_the_link(shop):
    order = shop.order(domain="startup-launch.com", email="ann@startup.example")
    shop.deliver(shop.fake.pay(order.checkout_session_id))
    order.refresh_from_db()
    assert order.state == ScoreOrder.SCANNING and order.paid_at and order.payment_intent_id.startswith("pi_")
    scan = order.scan
    assert scan.client is None and scan.domain == "startup-launch.com" and scan.profile == "internet"
    families = set(scan.parts.values_list("family", flat=True))
    assert families and not families & {"perf", "ai"}  # passive only: the buyer has not verified the domain
    assert sorted(shop.dispatched) == sorted(scan.parts.values_list("pk", flat=True))
    (message,) = mail.outbox
    assert message.to == ["ann@startup.example"]
    assert f"/score/{order.access_token}/" in message.body
    assert StripeEvent.objects.get().processed_at is not None


def test_the_success_page_fulfils_and_the_later_webhook_adds_nothing(shop):
    order = shop.order()
    event = shop.fake.pay(order.checkout_session_id)
    with shop.capture(execute=True):
        response = shop.client.get(reverse("billing:success") + f"?session_id={order.checkout_session_id}")
    assert response.status_code == 302 and response["Location"] == f"/score/{order.access_token}/"
    order.refresh_from_db()
    assert order.state == ScoreOrder.SCANNING
    shop.deliver(event)
    shop.client.get(reverse("billing:success") + f"?session_id={order.checkout_session_id}")  # reload
    assert ScanRun.objects.count() == 1
    assert len(mail.outbox) == 1


def test_the_success_page_before_payment_shows_awaiting_payment(shop):
    order = shop.order()
    response = shop.client.get(reverse("billing:success") + f"?session_id={order.checkout_session_id}",
                               follow=True)
    assert "Awaiting payment" in response.content.decode()
    assert not ScanRun.objects.exists()


@pytest.mark.parametrize("session_id", ["cs_test_unknown", "not-a-session", "cs_" + "x" * 300, ""])
def test_the_success_page_with_an_unknown_session_is_404(shop, session_id):
    shop.order()
    assert shop.client.get(reverse("billing:success") + f"?session_id={session_id}").status_code == 404


def test_a_currency_configured_in_capitals_is_still_fulfilled(shop, settings):
    # SELF_SERVE_CURRENCY=USD: Stripe answers "usd", and the comparison with the order's "USD" left every paid
    # order unscanned ("awaiting payment"), silently.
    settings.SELF_SERVE_CURRENCY = "USD"
    order = shop.order()
    assert order.currency == "usd"
    shop.deliver(shop.fake.pay(order.checkout_session_id))
    order.refresh_from_db()
    assert order.state == ScoreOrder.SCANNING and ScanRun.objects.count() == 1


def test_a_tampered_session_that_paid_less_is_not_fulfilled(shop):
    order = shop.order()
    shop.fake.sessions[order.checkout_session_id]["amount_total"] = 1
    shop.deliver(shop.fake.pay(order.checkout_session_id))
    order.refresh_from_db()
    assert order.state == ScoreOrder.CREATED and not ScanRun.objects.exists()


@pytest.mark.parametrize("forgery", ["wrong secret", "stale", "no header", "garbage header", "edited body"])
def test_a_forged_or_stale_signature_is_400_and_changes_nothing(shop, forgery):
    order = shop.order()
    event = shop.fake.pay(order.checkout_session_id)
    if forgery == "wrong secret":
        response, callbacks = shop.post_event(event, secret="whsec_attacker")
    elif forgery == "stale":
        response, callbacks = shop.post_event(event, timestamp=int(time.time()) - 3600)
    elif forgery == "no header":
        response, callbacks = shop.post_event(event, signature="")
    elif forgery == "garbage header":
        response, callbacks = shop.post_event(event, signature="t=abc,v1=<script>")
    else:
        _, header = shop.fake.signed(event)
        event["data"]["object"]["id"] = "cs_test_someone_else"
        response, callbacks = shop.post_event(event, signature=header)
    assert response.status_code == 400
    assert not callbacks
    assert not StripeEvent.objects.exists()
    order.refresh_from_db()
    assert order.state == ScoreOrder.CREATED and not ScanRun.objects.exists()


def test_a_signed_body_that_is_not_json_is_400(shop):
    import stripe

    header = stripe.WebhookSignature.generate_signature_header("not json", shop.fake.webhook_secret)
    response = shop.client.post(reverse("billing:webhook"), data="not json", content_type="application/json",
                                HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 400
    assert shop.client.get(reverse("billing:webhook")).status_code == 405


def test_a_replayed_event_is_200_and_adds_no_work(shop):
    order = shop.order()
    event = shop.fake.pay(order.checkout_session_id)
    shop.deliver(event)
    response, callbacks = shop.post_event(event)  # Stripe retries, or an attacker replays a captured delivery
    assert response.status_code == 200
    assert not callbacks
    assert StripeEvent.objects.count() == 1
    fulfilment.process_event(StripeEvent.objects.get().pk)  # a redelivered task finds it processed
    assert ScanRun.objects.count() == 1


def test_events_out_of_order_never_move_an_order_backwards(shop):
    order = shop.order()
    completed = shop.fake.pay(order.checkout_session_id)
    refunded = shop.fake.refund(order.checkout_session_id)
    shop.deliver(refunded)  # the refund arrives before the payment was recorded
    order.refresh_from_db()
    assert order.state == ScoreOrder.REFUNDED and order.payment_intent_id.startswith("pi_")
    shop.deliver(completed)
    order.refresh_from_db()
    assert order.state == ScoreOrder.REFUNDED and not ScanRun.objects.exists()

    second = shop.order(domain="second-startup.com")
    paid = shop.fake.pay(second.checkout_session_id)
    shop.deliver(paid)
    _finish_scan(second)
    _score_page(shop, second)
    second.refresh_from_db()
    assert second.state == ScoreOrder.DONE
    failed = shop.fake.event("checkout.session.async_payment_failed", shop.fake.sessions[second.checkout_session_id])
    shop.deliver(failed)  # a stale "failed" for a session that is paid
    shop.deliver(shop.fake.event("checkout.session.completed", shop.fake.sessions[second.checkout_session_id]))
    second.refresh_from_db()
    assert second.state == ScoreOrder.DONE and ScanRun.objects.count() == 1


def test_an_order_state_only_moves_forward(shop):
    order = shop.order()
    assert order.advance(ScoreOrder.DONE)
    assert not order.advance(ScoreOrder.PAID)
    assert not order.advance(ScoreOrder.SCANNING)
    assert not order.advance(ScoreOrder.FAILED)
    assert order.advance(ScoreOrder.REFUNDED)
    assert not order.advance(ScoreOrder.DONE)
    order.refresh_from_db()
    assert order.state == ScoreOrder.REFUNDED


def test_an_async_payment_that_fails_marks_the_order_failed(shop):
    order = shop.order()
    shop.deliver(shop.fake.pay(order.checkout_session_id, asynchronous=True))
    order.refresh_from_db()
    assert order.state == ScoreOrder.CREATED and not ScanRun.objects.exists()
    shop.deliver(shop.fake.settle(order.checkout_session_id, succeeded=False))
    order.refresh_from_db()
    assert order.state == ScoreOrder.FAILED
    page = _score_page(shop, order).content.decode()
    assert "Payment failed" in page
    assert not ScanRun.objects.exists() and not mail.outbox


def test_an_async_payment_that_succeeds_starts_the_scan(shop):
    order = shop.order()
    shop.deliver(shop.fake.pay(order.checkout_session_id, asynchronous=True))
    shop.deliver(shop.fake.settle(order.checkout_session_id, succeeded=True))
    order.refresh_from_db()
    assert order.state == ScoreOrder.SCANNING and ScanRun.objects.count() == 1


def test_a_refund_keeps_the_report_marked_refunded(shop):
    order = shop.order()
    shop.deliver(shop.fake.pay(order.checkout_session_id))
    _finish_scan(order)
    shop.deliver(shop.fake.refund(order.checkout_session_id))
    order.refresh_from_db()
    assert order.state == ScoreOrder.REFUNDED and order.refunded_at
    page = _score_page(shop, order).content.decode()
    assert "This order was refunded" in page
    assert "72" in page and "No CAA record." in page  # the report stays


def test_a_partial_refund_leaves_the_order(shop):
    order = shop.order()
    shop.deliver(shop.fake.pay(order.checkout_session_id))
    partial = shop.fake.refund(order.checkout_session_id)
    partial["data"]["object"]["refunded"] = False
    shop.deliver(partial)
    order.refresh_from_db()
    assert order.state == ScoreOrder.SCANNING


def test_the_score_page_shows_score_grade_decision_risks_and_findings(shop):
    order = shop.order(domain="startup-launch.com")
    running = _score_page(shop, order)
    assert running["X-Robots-Tag"] == "noindex, nofollow"
    shop.deliver(shop.fake.pay(order.checkout_session_id))
    assert "Scanning" in _score_page(shop, order).content.decode()
    _finish_scan(order)
    page = _score_page(shop, order).content.decode()
    assert "startup-launch.com" in page and "72" in page and "NO-GO" in page and "grade <strong>C" in page
    assert "Add a CAA record." in page  # the risk list
    assert "HSTS is on." in page  # all findings
    order.refresh_from_db()
    assert order.state == ScoreOrder.DONE


def test_one_buyers_order_is_invisible_to_another(shop):
    ann = shop.order(email="ann@startup.example", domain="ann-startup.com")
    bob = shop.order(email="bob@other.example", domain="bob-startup.com")
    page = _score_page(shop, ann).content.decode()
    assert "ann-startup.com" in page and "bob-startup.com" not in page
    for token in ["x" * 43, ann.access_token[:-1] + ("A" if ann.access_token[-1] != "A" else "B"),
                  ann.access_token[:20], "<script>"]:
        assert shop.client.get(f"/score/{token}/").status_code == 404
    assert ann.access_token != bob.access_token and len(ann.access_token) >= 43


def test_the_periodic_catch_up_processes_lost_events_and_settles_finished_scans(shop):
    from datetime import timedelta

    from django.utils import timezone

    order = shop.order()
    response, callbacks = shop.post_event(shop.fake.pay(order.checkout_session_id))
    assert response.status_code == 200 and len(callbacks) == 1  # ... and that task is lost with its broker
    assert fulfilment.catch_up() == 0  # too recent: its task may still be on the way
    later = timezone.now() + timedelta(minutes=5)
    with shop.capture(execute=True):
        assert fulfilment.catch_up(later) == 1
    order.refresh_from_db()
    assert order.state == ScoreOrder.SCANNING and StripeEvent.objects.get().processed_at
    _finish_scan(order)
    assert fulfilment.catch_up(later) == 0
    order.refresh_from_db()
    assert order.state == ScoreOrder.DONE


def test_without_a_webhook_secret_every_event_is_refused(shop, settings):
    order = shop.order()
    settings.STRIPE_WEBHOOK_SECRET = ""
    response, callbacks = shop.post_event(shop.fake.pay(order.checkout_session_id))
    assert response.status_code == 400 and not callbacks and not StripeEvent.objects.exists()


def test_a_paid_scan_no_worker_ran_is_run_again_then_the_order_fails_and_says_so(shop, cast, login):
    from datetime import timedelta

    from django.utils import timezone

    from apps.checks import pipeline

    order = shop.order(domain="startup-launch.com")
    shop.deliver(shop.fake.pay(order.checkout_session_id))
    order.refresh_from_db()
    first = order.scan
    assert order.scan_attempts == 1 and first.state == ScanRun.QUEUED
    shop.dispatched.clear()
    # The workers never picked the parts up (broker down): past the deadline the scan fails, measured nothing ...
    later = timezone.now() + timedelta(hours=1)
    assert pipeline.finalize_overdue(now=later) == 1
    first.refresh_from_db()
    assert first.state == ScanRun.FAILED and first.score is None
    # ... and the paid order is scanned once more (here by the periodic catch-up; the score page does it too).
    with shop.capture(execute=True):
        fulfilment.catch_up(later)
    order.refresh_from_db()
    second = order.scan
    assert order.state == ScoreOrder.SCANNING and order.scan_attempts == 2 and second.pk != first.pk
    assert sorted(shop.dispatched) == sorted(second.parts.values_list("pk", flat=True))
    assert "Scanning" in _score_page(shop, order).content.decode()
    # The second scan fails the same way: the order fails, the buyer is told, no score is shown.
    assert pipeline.finalize_overdue(now=later + timedelta(hours=1)) == 1
    page = _score_page(shop, order).content.decode()
    order.refresh_from_db()
    assert order.state == ScoreOrder.FAILED and order.scan_id == second.pk
    assert "2 scans failed" in order.failure_reason and "No worker started this scan" in order.failure_reason
    assert "Scan failed" in page and "We could not run the scan" in page and "Score <strong" not in page
    assert "Payment failed" not in page
    fulfilment.catch_up(later + timedelta(hours=2))
    assert ScanRun.objects.count() == 2  # no third scan
    # The consultant sees why on the leads page.
    login(cast.alice)
    leads = shop.client.get(reverse("billing:leads", kwargs={"workspace_id": shop.workspace.pk})).content.decode()
    assert "2 scans failed" in leads


def test_events_that_keep_failing_are_capped_and_never_crowd_out_new_ones(shop):
    from datetime import timedelta

    from django.utils import timezone

    # Three events Stripe will never make sense of (their session is unknown to it: 404 on every retrieve) ...
    for n in range(3):
        event = shop.fake.event("checkout.session.completed", {"id": f"cs_test_gone{n}", "object": "checkout.session"})
        response, _callbacks = shop.post_event(event)
        assert response.status_code == 200
    StripeEvent.objects.update(received_at=timezone.now() - timedelta(hours=1))
    # ... and a real payment whose task was lost, received after them.
    order = shop.order()
    shop.post_event(shop.fake.pay(order.checkout_session_id))
    later = timezone.now() + timedelta(minutes=5)
    with shop.capture(execute=True):
        assert fulfilment.catch_up(later, batch=3) == 3  # the oldest three: all fail
    assert set(StripeEvent.objects.filter(processed_at=None).values_list("attempts", flat=True)) == {0, 1}
    gone = StripeEvent.objects.filter(pk__in=list(StripeEvent.objects.filter(attempts=1).values_list("pk", flat=True)))
    assert gone.count() == 3 and all("InvalidRequestError" in e.last_error for e in gone)
    with shop.capture(execute=True):
        fulfilment.catch_up(later, batch=3)  # before: the same three again, the payment never fulfilled
    order.refresh_from_db()
    assert order.state == ScoreOrder.SCANNING
    for _ in range(fulfilment.EVENT_ATTEMPTS):
        fulfilment.catch_up(later, batch=3)
    assert set(gone.values_list("attempts", flat=True)) == {fulfilment.EVENT_ATTEMPTS}
    assert fulfilment.catch_up(later, batch=3) == 0  # given up on: left to an operator, not retried forever
    assert not StripeEvent.objects.filter(processed_at=None).exclude(attempts=fulfilment.EVENT_ATTEMPTS).exists()
