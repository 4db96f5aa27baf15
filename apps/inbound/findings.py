"""A DeliveryTest as an engine Finding (email.delivery)."""

from __future__ import annotations

import dataclasses

from django.db import transaction
from django.utils import timezone

from apps.checks.engine.findings import Finding
from apps.checks.engine.runner import make_finding
from apps.core.domains import is_under

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
    from_domain = str(v.get("dmarc", {}).get("from_domain") or "").lower().rstrip(".")
    if from_domain and not is_under(from_domain, target):
        # Mail from Gmail or any other domain can pass SPF, DKIM and DMARC for that domain: it proves nothing
        # about the client's own sending.
        reasons.append("from-other-domain")
        problems.append(f"it was sent from {from_domain}, not from {target} or a subdomain")
    minutes = v.get("minutes_to_arrive", 0)
    if minutes >= ARRIVAL_BAR_MINUTES:
        reasons.append("slow-arrival")
        problems.append(f"arrived after {minutes:g} minutes (bar: {ARRIVAL_BAR_MINUTES})")
    evidence = {"address": test.address, "envelope_sender": test.envelope_sender,
                "connecting_ip": test.connecting_ip, **v, "reasons": reasons or ["delivered"]}
    if reasons:
        return make_finding("email.delivery", target, "fail", "The test email arrived but " + "; ".join(problems)
                            + ".", evidence, f"Trigger the email from the app itself (From: an address at {target}), "
                            "send from a server your SPF record lists, sign with a DKIM key published under your "
                            "From domain, and check your provider's queue delays.")
    return make_finding("email.delivery", target, "pass", f"The test email arrived in {minutes:g} minutes with "
                        "SPF and DKIM passing and the From domain aligned.", evidence)


def _rescore(scan) -> None:
    """The scan's score, grade and decision follow its findings, the delivery finding included."""
    from apps.checks.engine import scoring
    from apps.checks.pipeline import engine_findings

    findings = engine_findings(scan)
    scan.score = scoring.score(findings)
    scan.grade = scoring.grade_for(scan.score)
    scan.decision = scoring.decision(findings)
    scan.blockers = sum(scoring.blocks_launch(f) for f in findings)
    scan.save(update_fields=["score", "grade", "decision", "blockers"])


@transaction.atomic
def record_in_checklist(test: DeliveryTest):
    """Store the email.delivery finding on the sprint's latest finished scan (or on a new one-check scan when the
    sprint has none) and let it set the checklist item. Returns the scan, or None when there is nothing to record."""
    from apps.checks.models import Finding, ScanRun
    from apps.checks.pipeline import target_for_client
    from apps.checks.sync import apply_scan_to_checklist
    from apps.sprints.models import Sprint

    # Locking the sprint serialises two arrivals for it, so they cannot both create a scan.
    sprint = Sprint.objects.select_for_update().select_related("client").get(pk=test.sprint_id)
    if not test.arrived or sprint.delivery_tests.filter(arrived_at__gt=test.arrived_at).exists():
        return None  # a newer test's verdict is the one that counts
    finding = delivery_finding(test)
    # Only a finished scan: a running one is scored and synced by its own finalize, and has no finished_at yet.
    # The sprint's latest full scan (never a deploy's smoke test), else the delivery tests' own one-check scan.
    done = sprint.scans.filter(state=ScanRun.DONE).order_by("-created_at")
    scan = done.full().first() or done.filter(options__source="delivery-test").first()
    if scan is None:
        client, now = sprint.client, timezone.now()
        scan = ScanRun.objects.create(
            client=client, sprint=sprint, profile="internet", domain=client.domain,
            target=dataclasses.asdict(target_for_client(client)),
            options={"only": ["email.delivery"], "source": "delivery-test"},
            state=ScanRun.DONE, started_at=now, finished_at=now)
    Finding.objects.update_or_create(
        scan=scan, check_id=finding.check, target=finding.target[:500],
        defaults=dict(status=finding.status, severity=finding.severity, summary=finding.summary[:500],
                      evidence=finding.evidence, remediation=finding.remediation,
                      duration_ms=max(0, int(finding.duration_ms))))
    _rescore(scan)
    apply_scan_to_checklist(scan, checks=[finding.check])
    return scan
