import stripe
from celery import shared_task

from . import fulfilment


@shared_task(ignore_result=True, autoretry_for=(stripe.APIConnectionError, stripe.RateLimitError),
             retry_backoff=5, retry_backoff_max=300, max_retries=8)
def process_stripe_event(event_pk: int) -> None:
    fulfilment.process_event(event_pk)


@shared_task(ignore_result=True)
def catch_up() -> None:
    fulfilment.catch_up()
