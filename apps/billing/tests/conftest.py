import pytest
from django.core.cache import cache
from django.urls import reverse

from apps.billing.models import ScoreOrder, StripeEvent
from tests.fakestripe import FakeStripe

WEBHOOK_SECRET = "whsec_test_launchready"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def fake_stripe(settings):
    """The Stripe SDK pointed at a local fake Stripe API server: no test reaches the internet."""
    fake = FakeStripe(webhook_secret=WEBHOOK_SECRET).start()
    settings.STRIPE_SECRET_KEY = "sk_test_launchready"
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.SELF_SERVE_PROFILE = "internet"
    yield fake
    fake.stop()


class Shop:
    """What a buyer and Stripe do, through the real views."""

    def __init__(self, client, fake, workspace, capture):
        self.client, self.fake, self.workspace, self.capture = client, fake, workspace, capture

    def order(self, domain="launch-ready-example.com", email="buyer@startup.example", **extra):
        url = reverse("billing:storefront", kwargs={"workspace_slug": self.workspace.slug})
        response = self.client.post(url, {"domain": domain, "email": email, **extra})
        assert response.status_code == 302, response.content.decode()[:2000]
        assert response["Location"].startswith(self.fake.url + "/pay/cs_test_")
        return ScoreOrder.objects.get(checkout_session_id=response["Location"].rsplit("/", 1)[1])

    def post_event(self, event, *, signature=None, secret=None, timestamp=None):
        """POST a webhook signed locally with Stripe's scheme; returns (response, on-commit callbacks)."""
        body, header = self.fake.signed(event, secret=secret, timestamp=timestamp)
        with self.capture(execute=False) as callbacks:
            response = self.client.post(reverse("billing:webhook"), data=body, content_type="application/json",
                                        HTTP_STRIPE_SIGNATURE=signature if signature is not None else header)
        return response, callbacks

    def deliver(self, event):
        """Stripe delivers an event and the worker processes it (its task body, run here)."""
        from apps.billing import fulfilment

        response, callbacks = self.post_event(event)
        assert response.status_code == 200
        assert len(callbacks) == 1  # exactly one piece of work enqueued with the event row
        with self.capture(execute=True):  # the buyer's email goes out; scan tasks go to `dispatched`
            fulfilment.process_event(StripeEvent.objects.get(event_id=event["id"]).pk)
        return response


@pytest.fixture
def shop(client, fake_stripe, cast, django_capture_on_commit_callbacks, monkeypatch):
    from apps.checks import pipeline

    shop = Shop(client, fake_stripe, cast.acme, django_capture_on_commit_callbacks)
    shop.dispatched = []
    # No broker in these tests: record the scan parts that would be published (test_happy_path runs them).
    monkeypatch.setattr(pipeline, "dispatch", lambda part_ids: shop.dispatched.extend(part_ids) or True)
    return shop
