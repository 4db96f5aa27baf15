"""The self-serve page and Stripe Checkout (the SDK against the local fake Stripe server)."""

import pytest
from django.urls import reverse

from apps.billing.models import ScoreOrder
from apps.core import ratelimit
from tests.faults import cache_down, silent_server

pytestmark = pytest.mark.django_db


def _storefront(cast_or_workspace):
    workspace = getattr(cast_or_workspace, "acme", cast_or_workspace)
    return reverse("billing:storefront", kwargs={"workspace_slug": workspace.slug})


def test_without_keys_the_page_says_payments_are_not_configured(cast, client, settings):
    settings.STRIPE_SECRET_KEY = ""
    page = client.get(_storefront(cast))
    assert page.status_code == 200
    assert "Payments are not configured" in page.content.decode()
    assert '<form method="post"' not in page.content.decode()
    posted = client.post(_storefront(cast), {"domain": "example-startup.com", "email": "a@b.example"})
    assert posted.status_code == 503
    assert not ScoreOrder.objects.exists()


def test_unknown_storefront_is_404(client):
    assert client.get(reverse("billing:storefront", kwargs={"workspace_slug": "nobody-here"})).status_code == 404


def test_an_order_opens_a_checkout_session_with_the_servers_price(shop, fake_stripe, settings):
    page = shop.client.get(_storefront(shop.workspace)).content.decode()
    assert "TEST MODE" in page and "49.00 USD" in page
    order = shop.order(domain="Bücher-Laden.example.com", email="Founder@Startup.example",
                       amount="1", price="1", unit_amount="1", currency="jpy")  # tampered fields are ignored
    assert order.domain == "xn--bcher-laden-thb.example.com"
    assert order.email == "founder@startup.example"
    assert (order.amount, order.currency, order.state) == (4900, "usd", ScoreOrder.CREATED)
    assert order.workspace == shop.workspace
    assert len(order.access_token) >= 43
    (request,) = [r for r in fake_stripe.requests if r["method"] == "POST"]
    form = request["form"]
    assert request["headers"]["Stripe-Version"] == settings.STRIPE_API_VERSION
    assert request["headers"]["Idempotency-Key"] == f"checkout-{order.pk}"
    assert form["mode"] == "payment"
    assert form["client_reference_id"] == str(order.pk)
    assert form["line_items[0][price_data][unit_amount]"] == "4900"
    assert form["line_items[0][price_data][currency]"] == "usd"
    assert form["success_url"].endswith("/billing/success/?session_id={CHECKOUT_SESSION_ID}")
    assert fake_stripe.sessions[order.checkout_session_id]["amount_total"] == 4900


@pytest.mark.parametrize("domain, message", [
    ("10.0.0.1", "not an IP address"),
    ("[::1]", "not an IP address"),
    ("localhost", "full domain name"),
    ("printer.local", "public domain"),
    ("db.internal", "public domain"),
    ("https://example-startup.com/pricing", "not a URL"),
    ("example-startup.com:8443", "port"),
    ("-bad-.com", "hyphen"),
    ("x" * 5001, "at most 300 characters"),
    ("<script>alert(1)</script>.com", "without a path"),
])
def test_bad_domains_are_refused_with_a_field_error(shop, domain, message):
    response = shop.client.post(_storefront(shop.workspace), {"domain": domain, "email": "a@startup.example"})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["domain"])
    assert "field-error" in response.content.decode()
    assert not ScoreOrder.objects.exists()
    assert not shop.fake.sessions


MALFORMED = ["x" * 5001, "<script>alert(1)</script>", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ‮ ﷽ \u200b", "abc\x00def", "-99999999999999999999",
             "2026-02-31T25:61", "javascript:alert(1)"]


@pytest.mark.parametrize("value", MALFORMED)
def test_malformed_values_give_field_errors_never_a_500(shop, value):
    shop.client.raise_request_exception = False
    response = shop.client.post(_storefront(shop.workspace), {"domain": value, "email": value})
    assert response.status_code == 200
    assert "field-error" in response.content.decode()
    assert not ScoreOrder.objects.exists()


def test_orders_are_rate_limited_per_email_and_per_ip(shop, settings):
    settings.SELF_SERVE_LIMIT_PER_EMAIL = 2
    settings.SELF_SERVE_LIMIT_PER_IP = 3
    shop.order(email="same@startup.example")
    shop.order(email="same@startup.example")
    refused = shop.client.post(_storefront(shop.workspace), {"domain": "a-startup.com",
                                                             "email": "same@startup.example"})
    assert refused.status_code == 429 and "Too many orders" in refused.content.decode()
    shop.order(email="other@startup.example")  # third from this IP: still allowed
    refused = shop.client.post(_storefront(shop.workspace), {"domain": "a-startup.com",
                                                             "email": "fourth@startup.example"})
    assert refused.status_code == 429
    other_ip = shop.client.post(_storefront(shop.workspace), {"domain": "a-startup.com",
                                                              "email": "fourth@startup.example"},
                                REMOTE_ADDR="192.0.2.7")
    assert other_ip.status_code == 302
    assert ScoreOrder.objects.count() == 4


def test_rate_limit_windows_reset():
    for _ in range(3):
        assert ratelimit.allow("t", "k", limit=3, window=60, now=1000.0)
    assert not ratelimit.allow("t", "k", limit=3, window=60, now=1001.0)
    assert ratelimit.allow("t", "other", limit=3, window=60, now=1001.0)
    assert ratelimit.allow("t", "k", limit=3, window=60, now=1080.0)  # next window


def test_stripe_being_down_gives_a_message_not_a_500(shop, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # discard port: connection refused
    response = shop.client.post(_storefront(shop.workspace), {"domain": "a-startup.com", "email": "a@b.example"})
    assert response.status_code == 502
    assert "not answering" in response.content.decode()


def test_stripe_hanging_gives_a_message_within_the_timeout(shop, settings):
    with silent_server() as port:
        settings.STRIPE_API_BASE = f"http://127.0.0.1:{port}"
        settings.STRIPE_TIMEOUT = 0.3
        response = shop.client.post(_storefront(shop.workspace), {"domain": "a-startup.com", "email": "a@b.example"})
    assert response.status_code == 502
    assert "not answering" in response.content.decode()


def test_cancelled_checkout_returns_to_the_page(shop):
    page = shop.client.get(_storefront(shop.workspace) + "?cancelled=1")
    assert "Payment cancelled" in page.content.decode()


def test_behind_a_trusted_proxy_each_buyer_has_their_own_ip_limit(shop, settings):
    # Every request arrives from the proxy's address; the limit must count the address the proxy forwards.
    settings.TRUSTED_PROXY_COUNT = 1
    settings.SELF_SERVE_LIMIT_PER_IP = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}

    def order(email, buyer_ip):
        return shop.client.post(_storefront(shop.workspace), {"domain": "a-startup.com", "email": email},
                                HTTP_X_FORWARDED_FOR=f"6.6.6.6, {buyer_ip}", **proxy)

    assert order("one@startup.example", "203.0.113.9").status_code == 302
    assert order("two@startup.example", "198.51.100.4").status_code == 302  # another buyer, same proxy
    assert order("three@startup.example", "203.0.113.9").status_code == 429  # the first buyer again
    assert sorted(ScoreOrder.objects.values_list("client_ip", flat=True)) == ["198.51.100.4", "203.0.113.9"]


def test_orders_keep_working_when_the_cache_is_down(shop, settings, caplog):
    cache_down(settings)
    response = shop.client.post(_storefront(shop.workspace), {"domain": "a-startup.com", "email": "a@b.example"})
    assert response.status_code == 302 and ScoreOrder.objects.count() == 1
    assert "rate limit unavailable" in caplog.text
