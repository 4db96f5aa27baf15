"""Run the local fake Stripe API (TEST MODE: no card is charged, no money moves) for the demo.

    manage.py fakestripe --port 12111
then run the web and worker processes with
    STRIPE_SECRET_KEY=sk_test_demo STRIPE_API_BASE=http://127.0.0.1:12111 STRIPE_WEBHOOK_SECRET=whsec_demo
(and SELF_SERVE_PROFILE=testworld to score the test world's domains). Its payment page delivers signed webhooks
to SITE_URL/billing/webhook/.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse


class Command(BaseCommand):
    help = "Run a local fake of the Stripe API endpoints Launch Ready uses (test mode, for the demo)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=12111)
        parser.add_argument("--webhook-url", default="", help="Default: SITE_URL + the webhook path.")

    def handle(self, *args, host, port, webhook_url, **options):
        from tests.fakestripe import FakeStripe

        if settings.STRIPE_SECRET_KEY.startswith(("sk_live_", "rk_live_")):
            raise CommandError("A live Stripe key is configured; the fake is for test mode only.")
        secret = settings.STRIPE_WEBHOOK_SECRET or "whsec_demo"
        fake = FakeStripe(host=host, port=port, webhook_secret=secret,
                          webhook_url=webhook_url or settings.SITE_URL + reverse("billing:webhook"))
        self.stdout.write(f"Fake Stripe (TEST MODE, no money moves) at {fake.url}; webhooks to {fake.webhook_url}\n"
                          f"Run the app with STRIPE_SECRET_KEY=sk_test_demo STRIPE_API_BASE={fake.url} "
                          f"STRIPE_WEBHOOK_SECRET={secret}")
        self.stdout.flush()
        try:
            fake.server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            fake.server.server_close()
