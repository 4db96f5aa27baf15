"""The paid webhook through a real Celery worker and broker: the event task, then the scan's parts, against the
test world and the fake Stripe API (the worker process talks to the fake running in this test process)."""

import pytest
from django.urls import reverse

from apps.billing.models import ScoreOrder, StripeEvent
from apps.checks.models import ScanRun
from tests.worker import WorkerProcess, wait_for


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_paid_webhook_ends_in_a_finished_score_page(cast, client, fake_stripe, testworld, tmp_path, settings):
    state = tmp_path / "testworld.json"
    testworld.write_state(state)
    settings.TESTWORLD_STATE_FILE = state
    settings.SELF_SERVE_PROFILE = "testworld"
    worker = WorkerProcess(queues="default,scans", extra_env={
        "LAUNCHREADY_TESTWORLD_STATE": str(state), "SELF_SERVE_PROFILE": "testworld",
        "STRIPE_SECRET_KEY": settings.STRIPE_SECRET_KEY, "STRIPE_API_BASE": fake_stripe.url,
        "STRIPE_WEBHOOK_SECRET": settings.STRIPE_WEBHOOK_SECRET, "EMAIL_URL": "consolemail://",
    }).start()
    try:
        response = client.post(reverse("billing:storefront", kwargs={"workspace_slug": cast.acme.slug}),
                               {"domain": "good.lrtest", "email": "founder@good.example"})
        order = ScoreOrder.objects.get(checkout_session_id=response["Location"].rsplit("/", 1)[1])
        body, header = fake_stripe.signed(fake_stripe.pay(order.checkout_session_id))
        assert client.post(reverse("billing:webhook"), data=body, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=header).status_code == 200
        wait_for(lambda: StripeEvent.objects.filter(processed_at__isnull=False).exists(), timeout=30,
                 message=f"the event to be processed\n{worker.log()}")
        scan = wait_for(lambda: ScanRun.objects.filter(state=ScanRun.DONE).first(), timeout=90,
                        message=f"the scan to finish\n{worker.log()}")
        page = client.get(reverse("billing:score", kwargs={"token": order.access_token})).content.decode()
        assert f"Score <strong class=\"score\">{scan.score}</strong>" in page
        order.refresh_from_db()
        assert order.state == ScoreOrder.DONE and order.scan == scan and ScanRun.objects.count() == 1
    finally:
        worker.stop()
