"""A self-serve buyer, end to end in a real browser: the workspace's score page → Checkout on the fake Stripe →
back to the app; the fake delivers the signed webhook to the server; the worker scans; the score page shows it."""

import re

import pytest
from playwright.sync_api import expect

from apps.billing.models import ScoreOrder, StripeEvent
from apps.checks.models import ScanRun
from apps.tenants.models import User, Workspace
from tests.worker import wait_for

from .conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.worker]

SCAN_TIMEOUT_MS = 90_000


def test_buyer_pays_through_checkout_and_reads_their_score(journey):
    owner = User.objects.create_user("olivia@northstar.test", PASSWORD, name="Olivia Hart")
    workspace = Workspace.create_with_owner(name="Northstar Launch Partners", owner=owner)
    stack = journey.stack
    buyer = journey.page("buyer")

    buyer.goto(f"/s/{workspace.slug}/")
    expect(buyer.get_by_role("heading", name="Is your product ready to launch?")).to_be_visible()
    expect(buyer.get_by_role("note")).to_contain_text("TEST MODE")
    buyer.get_by_label("Domain").fill("good.lrtest")
    buyer.get_by_label("Email").fill("founder@good.example")
    journey.shot(buyer, "storefront")
    buyer.get_by_role("button", name="Continue to payment").click()

    # Stripe Checkout (the fake): the session's success URL is built from SITE_URL, the server's own address.
    buyer.wait_for_url(re.compile(rf"^{re.escape(stack.fake.url)}/pay/cs_test_\w+$"))
    expect(buyer.get_by_role("heading", name=re.compile(r"^Pay 49\.00 USD"))).to_be_visible()
    order = ScoreOrder.objects.get()
    session = stack.fake.sessions[order.checkout_session_id]
    assert session["success_url"].startswith(stack.url + "/billing/success/")
    journey.shot(buyer, "fake-stripe-checkout")
    buyer.get_by_role("button", name="Pay (test mode)").click()

    # Back on the app: the success page fulfils and redirects to the score page.
    buyer.wait_for_url(re.compile(rf"^{re.escape(stack.url)}/score/[\w-]+/$"))
    expect(buyer.get_by_role("heading", name="Launch readiness: good.lrtest")).to_be_visible()
    journey.shot(buyer, "score-page-paid")

    # The fake delivered the signed checkout.session.completed to the server; the worker processed it.
    wait_for(lambda: stack.fake.delivered, timeout=15, message="the webhook to be delivered")
    event, status = stack.fake.delivered[0]
    assert event["type"] == "checkout.session.completed" and status == 200
    wait_for(lambda: StripeEvent.objects.filter(event_id=event["id"], processed_at__isnull=False).exists(),
             timeout=30, message=f"the worker to process the event\n{stack.worker.log()}")

    # The score page reloads itself while the scan runs, then shows the result.
    expect(buyer.locator("strong.score")).to_be_visible(timeout=SCAN_TIMEOUT_MS)
    scan = ScanRun.objects.get()
    assert scan.state == ScanRun.DONE and scan.domain == "good.lrtest"
    expect(buyer.locator(".scan-summary")).to_contain_text(f"Score {scan.score} / 100")
    expect(buyer.get_by_role("heading", name="Risk list")).to_be_visible()
    expect(buyer.get_by_role("link", name="Download the readiness report (PDF)")).to_be_visible()
    order.refresh_from_db()
    assert order.state == ScoreOrder.DONE and order.scan == scan
    assert buyer.url == stack.url + f"/score/{order.access_token}/"
    journey.shot(buyer, "score-page-done", full_page=True)
