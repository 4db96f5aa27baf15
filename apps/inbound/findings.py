"""A DeliveryTest as an engine Finding (email.delivery)."""

from __future__ import annotations

from apps.checks.engine.findings import Finding
from apps.checks.engine.runner import make_finding

from .models import ARRIVAL_BAR_MINUTES, DeliveryTest


def delivery_finding(test: DeliveryTest) -> Finding:
    """pass when SPF and DKIM pass, the From domain is DMARC-aligned and the mail arrived within the bar."""
    target = test.sprint.client.domain
    if not test.arrived:
        return make_finding("email.delivery", target, "skipped", f"No message has reached {test.address} yet.",
                            {"address": test.address, "reasons": ["not-arrived"]},
                            f"Trigger a welcome or password-reset email from your app to {test.address}.")
    v = test.verdict
    reasons, problems = [], []
    if v.get("spf", {}).get("result") != "pass":
        reasons.append("spf-not-pass")
        problems.append(f"SPF {v.get('spf', {}).get('result', 'missing')}")
    dkim_results = v.get("dkim", [])
    if not any(r.get("result") == "pass" for r in dkim_results):
        reasons.append("dkim-not-pass")
        problems.append("no valid DKIM signature" if dkim_results else "not DKIM-signed")
    if v.get("dmarc", {}).get("result") != "pass":
        reasons.append("dmarc-unaligned")
        problems.append(f"From domain {v.get('dmarc', {}).get('from_domain') or '?'} not DMARC-aligned")
    minutes = v.get("minutes_to_arrive", 0)
    if minutes >= ARRIVAL_BAR_MINUTES:
        reasons.append("slow-arrival")
        problems.append(f"arrived after {minutes:g} minutes (bar: {ARRIVAL_BAR_MINUTES})")
    evidence = {"address": test.address, "envelope_sender": test.envelope_sender,
                "connecting_ip": test.connecting_ip, **v, "reasons": reasons or ["delivered"]}
    if reasons:
        return make_finding("email.delivery", target, "fail", "The test email arrived but " + "; ".join(problems)
                            + ".", evidence, "Send from a server your SPF record lists, sign with a DKIM key "
                            "published under your From domain, and check your provider's queue delays.")
    return make_finding("email.delivery", target, "pass", f"The test email arrived in {minutes:g} minutes with "
                        "SPF and DKIM passing and the From domain aligned.", evidence)
