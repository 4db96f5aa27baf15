"""The webhook and the success page fulfilling the same order at the same moment start exactly one scan.

Real threads, each with its own database connection and committed transactions (transactional_db), both going
through the real views; the claim is the conditional UPDATE paid → scanning.
"""

import threading

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from apps.billing import fulfilment, tasks
from apps.billing.models import ScoreOrder, StripeEvent
from apps.checks import pipeline
from apps.checks.models import ScanRun

ROUNDS = 6


@pytest.mark.django_db(transaction=True)
def test_webhook_and_success_page_at_once_start_exactly_one_scan(cast, fake_stripe, monkeypatch):
    published = []
    monkeypatch.setattr(pipeline, "dispatch", lambda part_ids: published.extend(part_ids) or True)
    # The worker's side of the webhook, run in the webhook's thread right after the event row commits.
    monkeypatch.setattr(tasks.process_stripe_event, "delay", lambda pk: fulfilment.process_event(pk))
    storefront = reverse("billing:storefront", kwargs={"workspace_slug": cast.acme.slug})
    errors, statuses = [], []

    def run(barrier, request):
        try:
            barrier.wait(timeout=10)
            statuses.append(request().status_code)
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(repr(exc))
        finally:
            connection.close()

    for n in range(ROUNDS):
        response = Client().post(storefront, {"domain": f"race-{n}.startup-launch.com", "email": f"r{n}@a.example"})
        session_id = response["Location"].rsplit("/", 1)[1]
        body, header = fake_stripe.signed(fake_stripe.pay(session_id))
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=run, args=(barrier, lambda body=body, header=header: Client().post(
                reverse("billing:webhook"), data=body, content_type="application/json",
                HTTP_STRIPE_SIGNATURE=header))),
            threading.Thread(target=run, args=(barrier, lambda sid=session_id: Client().get(
                reverse("billing:success") + f"?session_id={sid}"))),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert not errors, errors
    assert sorted(statuses) == sorted([200] * ROUNDS + [302] * ROUNDS)
    assert ScoreOrder.objects.filter(state=ScoreOrder.SCANNING).count() == ROUNDS
    assert ScanRun.objects.count() == ROUNDS  # exactly one scan per paid order
    assert set(ScoreOrder.objects.values_list("scan_id", flat=True)) == set(ScanRun.objects.values_list("pk",
                                                                                                          flat=True))
    assert StripeEvent.objects.filter(processed_at__isnull=False).count() == ROUNDS
    assert len(mail.outbox) == ROUNDS
    assert sorted(published) == sorted(pk for scan in ScanRun.objects.all() for pk in scan.parts.values_list(
        "pk", flat=True))
