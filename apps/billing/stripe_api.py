"""The few Stripe API calls we make, through the official SDK with a pinned API version.

Every POST carries an idempotency key derived from our own ids, so a retried request never creates a second
Checkout Session or refund.
"""

import stripe
from django.conf import settings


class PaymentsNotConfigured(Exception):
    """STRIPE_SECRET_KEY is not set."""


def configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def test_mode() -> bool:
    """True for test keys and for the local fake Stripe server: pages say so."""
    return settings.STRIPE_SECRET_KEY.startswith("sk_test_") or bool(settings.STRIPE_API_BASE)


def client() -> stripe.StripeClient:
    if not configured():
        raise PaymentsNotConfigured
    base = {"api": settings.STRIPE_API_BASE.rstrip("/")} if settings.STRIPE_API_BASE else None
    # Bounded: the SDK's default is 80 s a try; three tries of (connect 3 s, read STRIPE_TIMEOUT) stay inside the
    # web worker's 30 s, so a Stripe that hangs gives the buyer a message instead of a killed worker.
    http_client = stripe.RequestsClient(timeout=(3, settings.STRIPE_TIMEOUT))
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, stripe_version=settings.STRIPE_API_VERSION,
                               base_addresses=base, max_network_retries=2, http_client=http_client)


def create_checkout_session(order, *, success_url: str, cancel_url: str):
    return client().v1.checkout.sessions.create({
        "mode": "payment",
        "client_reference_id": str(order.pk),
        "customer_email": order.email,
        "line_items": [{
            "quantity": 1,
            "price_data": {
                "currency": order.currency,
                "unit_amount": order.amount,
                "product_data": {"name": f"Launch readiness score for {order.domain}"},
            },
        }],
        "metadata": {"order_id": str(order.pk)},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }, options={"idempotency_key": f"checkout-{order.pk}"})


def retrieve_session(session_id: str) -> dict:
    return client().v1.checkout.sessions.retrieve(session_id).to_dict()


def sessions_for_payment_intent(payment_intent_id: str) -> list[dict]:
    page = client().v1.checkout.sessions.list({"payment_intent": payment_intent_id, "limit": 10})
    return [session.to_dict() for session in page.data]


def verified_event(payload: bytes, signature_header: str | None) -> dict:
    """The event as a dict, or stripe.SignatureVerificationError / ValueError for a forged, stale or broken one."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise stripe.SignatureVerificationError("No webhook secret is configured.", signature_header, payload)
    event = stripe.Webhook.construct_event(payload, signature_header, settings.STRIPE_WEBHOOK_SECRET)
    data = event.to_dict()
    if not isinstance(data.get("id"), str) or not data["id"]:
        raise ValueError("event without an id")
    return data
