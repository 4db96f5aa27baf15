"""`manage.py fakestripe` serves the fake Stripe API the demo's SDK talks to."""

import os
import socket
import subprocess
import sys
import time

import stripe
from django.conf import settings

from tests.worker import ROOT


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_command_serves_checkout_sessions_in_test_mode():
    port = _free_port()
    env = {**os.environ, "DEBUG": "1", "STRIPE_SECRET_KEY": "", "STRIPE_WEBHOOK_SECRET": "whsec_demo"}
    proc = subprocess.Popen([sys.executable, "manage.py", "fakestripe", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        banner = proc.stdout.readline()
        assert "TEST MODE" in banner and f"127.0.0.1:{port}" in banner
        client = stripe.StripeClient("sk_test_demo", stripe_version=settings.STRIPE_API_VERSION,
                                     base_addresses={"api": f"http://127.0.0.1:{port}"})
        deadline = time.monotonic() + 10
        while True:
            try:
                session = client.v1.checkout.sessions.create({"mode": "payment", "client_reference_id": "x"},
                                                             options={"idempotency_key": "demo-1"})
                break
            except stripe.APIConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert session.id.startswith("cs_test_") and session.url.startswith(f"http://127.0.0.1:{port}/pay/")
        assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "unpaid"
        live = stripe.StripeClient("sk_live_nope", base_addresses={"api": f"http://127.0.0.1:{port}"})
        try:
            live.v1.checkout.sessions.retrieve(session.id)
            raise AssertionError("the fake answered a live key")
        except stripe.AuthenticationError:
            pass
    finally:
        proc.terminate()
        proc.wait(timeout=10)
