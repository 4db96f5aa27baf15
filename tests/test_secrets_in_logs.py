"""A scan that finds secrets must not write any of them to a log.

The repository is built at run time with freshly generated secrets (so this file holds none), scanned through the
real pipeline (run_scan_inline: the same run_part a worker runs), and every log record of every logger at DEBUG
level is captured twice: raw (message, arguments, extras, traceback) and formatted the way production formats it.
The same capture watches a Stripe checkout: order, signed webhook, forged webhook, fulfilment.
"""

import io
import logging
import re
import secrets
import string

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from apps.checks.engine import Target
from apps.checks.models import Finding
from apps.checks.pipeline import run_scan_inline
from apps.checks.tests.test_repo_secrets import Repo
from apps.core.logs import KeyValueFormatter, RequestIdFilter

CHECK = "deploy.secrets_in_repo"


def _random(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _fresh_secrets():
    alnum = string.ascii_letters + string.digits
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    return {
        "stripe": "sk_" + "live_" + _random(alnum, 32),
        "webhook": "whsec_" + _random(alnum, 32),
        "github": "ghp_" + _random(alnum, 36),
        "aws": "AKIA" + _random(string.ascii_uppercase + string.digits, 16),
        "openai": "sk-proj-" + _random(alnum, 48),
        "db_password": _random(alnum, 20),
        "dotenv": _random(alnum, 40),
        "pem_body": pem.splitlines()[1],
        "_pem": pem,
    }


class Capture(logging.Handler):
    """Keeps every record's raw parts and its production-formatted line."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.addFilter(RequestIdFilter())
        self.formatter_kv = KeyValueFormatter()
        self.raw, self.lines = io.StringIO(), io.StringIO()

    def emit(self, record):
        self.raw.write(f"{record.getMessage()}\n{record.args!r}\n{vars(record)!r}\n")
        if record.exc_info:
            self.raw.write(logging.Formatter().formatException(record.exc_info) + "\n")
        self.lines.write(self.formatter_kv.format(record) + "\n")


@pytest.fixture
def captured_logs():
    handler, root = Capture(), logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.mark.django_db
def test_a_scan_that_finds_secrets_logs_none_of_them(cast, tmp_path, captured_logs):
    s = _fresh_secrets()
    repo = Repo(tmp_path / "leaky")
    repo.commit({
        "config/settings.py": f'STRIPE_KEY = "{s["stripe"]}"\nSTRIPE_WEBHOOK_SECRET = "{s["webhook"]}"\n'
                              f'DATABASE_URL = "postgres://app:{s["db_password"]}@db.prod-cluster.internal:5432/app"\n',
        "deploy/id_rsa": s["_pem"],
        ".env": f"SECRET_KEY={s['dotenv']}\nGITHUB_TOKEN={s['github']}\nAWS_ACCESS_KEY_ID={s['aws']}\n"
                f"OPENAI_API_KEY={s['openai']}\n",
    }, "leak")
    repo.commit({"README.md": "nothing to see\n"}, "hide", remove=[".env"])

    target = Target.build(cast.nova.domain, options={"repo": str(repo.path)})
    scan = run_scan_inline(client=cast.nova, sprint=cast.nova_sprint, requested_by=cast.alice, only=[CHECK],
                           target=target, profile="internet")

    findings = list(Finding.objects.filter(scan=scan, check_id=CHECK))
    stored = " ".join(f"{f.summary} {f.evidence} {getattr(f, 'remediation', '')}" for f in findings)
    assert any(f.status == "fail" for f in findings), stored
    raw, lines = captured_logs.raw.getvalue(), captured_logs.lines.getvalue()
    found = re.search(r"scanned: .*, (\d+) secret\(s\)", raw)
    assert found and int(found.group(1)) >= 7, "the scan did not find the secrets (or the capture is not working)"
    for name, value in s.items():
        if name.startswith("_"):
            continue
        assert value not in raw, f"{name} reached a log record"
        assert value not in lines, f"{name} reached a formatted log line"
        assert value not in stored, f"{name} reached a stored finding"


@pytest.mark.django_db
def test_a_stripe_checkout_and_its_webhooks_log_no_key_signature_or_buyer_token(cast, client, settings, monkeypatch,
                                                                               django_capture_on_commit_callbacks,
                                                                               captured_logs):
    """Order, pay, a signed webhook (processed by the worker's code), a forged one and a replay, all captured."""
    from django.core.cache import cache
    from django.urls import reverse

    from apps.billing import fulfilment
    from apps.billing.models import ScoreOrder, StripeEvent
    from apps.checks import pipeline
    from tests.fakestripe import FakeStripe

    alnum = string.ascii_letters + string.digits
    api_key, webhook_secret = "sk_" + "test_" + _random(alnum, 32), "whsec_" + _random(alnum, 32)
    fake = FakeStripe(webhook_secret=webhook_secret).start()
    try:
        cache.clear()  # the storefront's rate limits
        settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = api_key, webhook_secret
        settings.STRIPE_API_BASE, settings.SELF_SERVE_PROFILE = fake.url, "internet"
        monkeypatch.setattr(pipeline, "dispatch", lambda part_ids: True)  # no broker: the scan is not the point

        response = client.post(reverse("billing:storefront", kwargs={"workspace_slug": cast.acme.slug}),
                               {"domain": "launch-ready-example.com", "email": "buyer@startup.example"})
        assert response.status_code == 302 and response["Location"].startswith(fake.url)
        order = ScoreOrder.objects.get()
        event = fake.pay(order.checkout_session_id)
        body, signature = fake.signed(event)
        with django_capture_on_commit_callbacks(execute=False):
            ok = client.post(reverse("billing:webhook"), data=body, content_type="application/json",
                             HTTP_STRIPE_SIGNATURE=signature)
            forged = client.post(reverse("billing:webhook"), data=body + " ",
                                 content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)
        assert (ok.status_code, forged.status_code) == (200, 400)
        with django_capture_on_commit_callbacks(execute=True):
            fulfilment.process_event(StripeEvent.objects.get().pk)
        order.refresh_from_db()
        assert order.state == ScoreOrder.SCANNING and order.access_token
        # the SDK did call the (fake) API with the key, so the key was in play while logs were captured
        assert any(r["headers"].get("Authorization") == f"Bearer {api_key}" for r in fake.requests)
    finally:
        fake.stop()

    raw, lines = captured_logs.raw.getvalue(), captured_logs.lines.getvalue()
    assert "webhook" in raw.lower() or "Bad Request" in raw, "the capture saw nothing of the webhooks"
    v1 = signature.split("v1=")[1].split(",")[0]
    for name, value in {"api key": api_key, "webhook secret": webhook_secret, "signature": v1,
                        "buyer's score-page token": order.access_token}.items():
        assert value not in raw, f"the {name} reached a log record"
        assert value not in lines, f"the {name} reached a formatted log line"
