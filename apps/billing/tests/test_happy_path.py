"""The whole self-serve flow: order → the fake's hosted payment page → success page and webhook → a real passive
scan of a test-world domain → the finished score page."""

import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from apps.billing.models import ScoreOrder
from apps.checks import pipeline
from apps.checks.models import ScanRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def world_state(testworld, settings, tmp_path):
    path = tmp_path / "testworld.json"
    testworld.write_state(path)
    settings.TESTWORLD_STATE_FILE = path
    settings.SELF_SERVE_PROFILE = "testworld"
    return path


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _press_pay(url):
    """The buyer presses Pay on the fake's (test-mode) hosted page; returns where it sends them."""
    page = urllib.request.urlopen(url, timeout=10).read().decode()
    assert "TEST MODE" in page
    try:
        urllib.request.build_opener(_NoRedirect).open(urllib.request.Request(url, data=b"", method="POST"),
                                                      timeout=10)
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 303
        return redirect.headers["Location"]
    raise AssertionError("the payment page did not redirect")


def test_from_order_to_a_finished_score_page(shop, world_state):
    response = shop.client.post(reverse("billing:storefront", kwargs={"workspace_slug": shop.workspace.slug}),
                                {"domain": "good.lrtest", "email": "founder@good.example"})
    success_url = _press_pay(response["Location"])
    assert success_url.startswith(settings.SITE_URL + "/billing/success/?session_id=cs_test_")
    order = ScoreOrder.objects.get()
    with shop.capture(execute=True):
        page = shop.client.get(success_url[len(settings.SITE_URL):], follow=True)
    assert "Scanning" in page.content.decode()
    shop.deliver(shop.fake.event("checkout.session.completed", shop.fake.sessions[order.checkout_session_id]))
    assert ScanRun.objects.count() == 1
    for part_id in shop.dispatched:  # what the scans queue's worker does with each published part
        pipeline.run_part(part_id)
    scan = ScanRun.objects.get()
    assert scan.state == ScanRun.DONE and scan.profile == "testworld" and scan.findings.exists()
    page = shop.client.get(reverse("billing:score", kwargs={"token": order.access_token})).content.decode()
    assert f"Score <strong class=\"score\">{scan.score}</strong>" in page
    assert f"grade <strong>{scan.grade}</strong>" in page and scan.decision.upper() in page
    assert "Risk list" in page and "All findings" in page
    order.refresh_from_db()
    assert order.state == ScoreOrder.DONE
    (message,) = mail.outbox
    assert message.to == ["founder@good.example"] and order.access_token in message.body
    # ... and the readiness report PDF, branded with the workspace whose page sold it, by the same token
    pdf_url = reverse("reports:score_pdf", kwargs={"token": order.access_token})
    assert pdf_url in page
    pdf = shop.client.get(pdf_url)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert shop.client.get(reverse("reports:score_pdf", kwargs={"token": "x" * 43})).status_code == 404
