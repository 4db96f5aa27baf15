"""The deploy gate: record a deploy or rollback, run its smoke test, conclude a verdict, fill the sprint's evidence.

How the smoke test runs (decision): always through the normal pipeline (start_scan → Celery `scans` queue). With
`wait` the request holds its answer up to that many seconds (at most MAX_WAIT_S, under the web worker's timeout) for
the verdict; without it, or when the scan takes longer, CI polls GET /api/v1/deploys/{id}. Either way the verdict is
concluded exactly once (conditional UPDATE): from the pipeline's `scan_finalized` signal in the worker, by the
waiting request, or at the latest when polled.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from apps.checks import pipeline
from apps.checks.engine import Target
from apps.checks.models import ScanRun

from .models import Deploy

log = logging.getLogger(__name__)

SMOKE_CHECKS = ["deploy.smoke", "tls.certificate", "http.https_redirect", "http.hsts"]
# A waiting caller holds a sync web worker: stay well under gunicorn's 30 s worker timeout.
MAX_WAIT_S = 25
WAIT_POLL_S = 0.25
STAGING = "staging"
ROLLBACK_ITEM = "Rollback path tested once"
REPEATABLE_ITEM = "Deploys are repeatable from the runbook"


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def record(*, client, environment, version, changelog_url="", token=None, user=None, idempotency_key="",
           kind=Deploy.DEPLOY, rollback_of=None, performed_by="") -> tuple[Deploy, bool]:
    """(deploy, created). A repeated Idempotency-Key returns the first deploy and records nothing; the key used
    again for a different deploy (another environment, version or kind) raises IdempotencyKeyReused."""
    request = (kind, environment, version, rollback_of.pk if rollback_of else None)
    if environment == STAGING and not client.staging_url:
        raise NoStagingSite("This client has no staging URL, and a staging deploy is not smoke-tested on the "
                            "production domain: add the staging URL on the client's page (Edit client).")
    if idempotency_key:
        existing = Deploy.objects.filter(client=client, idempotency_key=idempotency_key).first()
        if existing:
            return _same_request(existing, request), False
    sprint = client.sprints.filter(status="active").order_by("-starts_at").first()
    try:
        with transaction.atomic():
            deploy = Deploy.objects.create(
                client=client, sprint=sprint, token=token, requested_by=user, kind=kind, environment=environment,
                version=version, changelog_url=changelog_url, rollback_of=rollback_of, performed_by=performed_by,
                idempotency_key=idempotency_key)
    except IntegrityError:  # two retries raced: the other one recorded it
        return _same_request(Deploy.objects.get(client=client, idempotency_key=idempotency_key), request), False
    what = (f"rolled back {environment} to {version}" + (f" (by {performed_by})" if performed_by else "")
            if kind == Deploy.ROLLBACK else f"deployed {version} to {environment}")
    (sprint.log if sprint else client.log)(user, f"{what} (reported from CI); smoke test started")
    return deploy, True


class NoStagingSite(ValueError):
    """A staging deploy for a client whose staging site we do not know."""


class IdempotencyKeyReused(ValueError):
    """The key names another deploy: answering with that one would hand this call someone else's verdict."""


def _same_request(existing: Deploy, request: tuple) -> Deploy:
    # One key per workflow run (not per job) would otherwise answer a production deploy with the staging job's
    # deploy and verdict: no production deploy recorded, no smoke test, and CI green.
    if (existing.kind, existing.environment, existing.version, existing.rollback_of_id) != request:
        raise IdempotencyKeyReused(
            f"This Idempotency-Key was used for another {existing.kind} ({existing.version} to "
            f"{existing.environment}): use one key per deploy, e.g. the run and job ids.")
    return existing


def needs_smoke(deploy: Deploy, created: bool) -> bool:
    """A new deploy, or a retried one whose first call failed before its scan started (else nothing would ever
    conclude it: the retry got the pending deploy back and CI polled it until it gave up)."""
    return created or (deploy.scan_id is None and deploy.verdict == Deploy.PENDING)


def smoke_target(deploy: Deploy) -> Target:
    """The site the deploy went to: production's, or for a staging deploy the client's staging site."""
    target = pipeline.target_for_client(deploy.client)
    if deploy.environment == STAGING:
        if not deploy.client.staging_url:
            raise NoStagingSite("The client's staging URL was removed: add it again to smoke-test staging.")
        target = on_staging(target, deploy.client.staging_url)
    target.options["deploy_smoke"] = True  # deploy.smoke runs only in a deploy's scan (see engine/smoke.py)
    return target


def on_staging(target: Target, staging_url: str) -> Target:
    """The production Target moved to the staging site: its homepage is the staging URL, and every declared
    endpoint on one of the client's own hosts is looked for at the same path there (login, health, chat); an
    endpoint elsewhere (a vendor's hosted chat API) stays as declared."""
    staging = urlsplit(staging_url)
    own = set(target.hostnames)

    def moved(url: str) -> str:
        parts = urlsplit(url)
        if (parts.hostname or "").lower() not in own:
            return url
        return urlunsplit((staging.scheme, staging.netloc, parts.path or "/", parts.query, ""))

    endpoints = [("homepage", staging_url)] + [(kind, moved(url)) for kind, urls in target.endpoints.items()
                                               if kind != "homepage" for url in urls]
    options = dict(target.options)
    if "chat_endpoints" in options:
        options["chat_endpoints"] = {moved(url): chat for url, chat in options["chat_endpoints"].items()}
    return Target.build(staging.hostname, endpoints=endpoints, options=options)


def start_smoke(deploy: Deploy, *, wait: int | None) -> Deploy:
    """Start the smoke scan on the workers (scans queue), unless the deploy has one already; with `wait`, hold the
    answer up to that many seconds for the verdict, then answer with whatever it is (pending: poll `poll_url`).
    `wait` is a bound: a slow target or a busy queue costs the caller a poll, never a request that outlives the web
    worker."""
    target = smoke_target(deploy)
    with transaction.atomic():  # parts are published on commit, after deploy.scan is saved
        # The row lock (SELECT … FOR UPDATE) makes two retries of a deploy whose first call failed start one scan.
        if list(Deploy.objects.select_for_update().filter(pk=deploy.pk, scan__isnull=True).values_list("pk")):
            # A staging smoke scan is not the sprint's: its findings must not move the production checklist.
            scan = pipeline.start_scan(client=deploy.client, requested_by=deploy.requested_by, only=SMOKE_CHECKS,
                                       sprint=deploy.sprint if deploy.environment != STAGING else None, target=target)
            Deploy.objects.filter(pk=deploy.pk).update(scan=scan)
            deploy.scan = scan
    deadline = time.monotonic() + min(wait or 0, settings.DEPLOY_WAIT_CAP_SECONDS)
    while time.monotonic() < deadline:
        deploy.refresh_from_db()
        # Concluded by the worker's scan_finalized receiver, or here once the scan is done.
        if deploy.verdict != Deploy.PENDING or conclude(deploy):
            break
        time.sleep(WAIT_POLL_S)
    deploy.refresh_from_db()
    return deploy


def failures_of(scan: ScanRun) -> list[dict]:
    return [{"check": f.check_id, "target": f.target, "status": f.status, "reason": f.summary}
            for f in scan.findings.filter(status__in=["fail", "error"]).order_by("check_id", "target")]


def conclude(deploy: Deploy) -> bool:
    """Turn a finished smoke scan into the deploy's verdict, once; then evidence and alerts."""
    scan = deploy.scan
    if scan is None:
        return False
    scan.refresh_from_db()
    if scan.state not in (ScanRun.DONE, ScanRun.FAILED):
        return False
    failures = failures_of(scan)
    if scan.state == ScanRun.FAILED and not failures:
        failures = [{"check": "deploy.smoke", "target": scan.domain, "status": "error",
                     "reason": scan.failure_reason or "The smoke scan failed."}]
    verdict = Deploy.FAIL if failures else Deploy.PASS
    # One transaction: whoever reads the verdict (a waiting API call, a poll) also sees its log, evidence and alerts.
    with transaction.atomic():
        if not Deploy.objects.filter(pk=deploy.pk, verdict=Deploy.PENDING).update(
                verdict=verdict, failures=failures, concluded_at=timezone.now()):
            return False
        deploy.refresh_from_db()
        subject = f"{deploy.kind} of {deploy.version} to {deploy.environment}"
        text = (f"smoke test passed after the {subject}" if verdict == Deploy.PASS else
                f"smoke test FAILED after the {subject}: "
                + "; ".join(f"{f['check']}: {f['reason']}" for f in failures))
        (deploy.sprint.log if deploy.sprint else deploy.client.log)(None, text)
        if verdict == Deploy.PASS:
            record_evidence(deploy)
        else:
            alert_smoke_failed(deploy)
    return True


def on_scan_finalized(sender, scan, **kwargs):
    """pipeline.scan_finalized receiver: a worker finished a smoke scan nobody is waiting for."""
    for deploy in Deploy.objects.filter(scan=scan, verdict=Deploy.PENDING).select_related("scan", "sprint"):
        conclude(deploy)


def findings_url(deploy: Deploy) -> str | None:
    return absolute(reverse("checks:detail", kwargs={"scanrun_id": deploy.scan_id})) if deploy.scan_id else None


def _update_item(sprint, title: str, evidence: str, link: str | None) -> bool:
    """Set a manual item to pass with our evidence, unless a consultant decided it by hand."""
    item = sprint.items.filter(title__iexact=title).first()
    if item is None or item.override_reason or (item.updated_by_id and item.status != "todo"):
        return False
    item.status, item.evidence_text = "pass", evidence[:5000]
    item.evidence_link = (link or "")[:500]
    item.updated_at, item.updated_by = timezone.now(), None
    item.save(update_fields=["status", "evidence_text", "evidence_link", "updated_at", "updated_by"])
    return True


def record_evidence(deploy: Deploy) -> None:
    """A passing smoke test is evidence for "Deploys are repeatable"; the first passing rollback-and-smoke
    proves "Rollback path tested once"."""
    sprint = deploy.sprint
    if sprint is None:
        return
    when = f"{deploy.concluded_at:%Y-%m-%d %H:%M} UTC"
    passing = sprint.deploys.filter(verdict=Deploy.PASS).count()
    _update_item(sprint, REPEATABLE_ITEM, f"{passing} deploy(s) reported by CI passed their smoke test; latest: "
                                          f"{deploy.kind} of {deploy.version} to {deploy.environment}, {when}.",
                 findings_url(deploy))
    if deploy.kind == Deploy.ROLLBACK:
        item = sprint.items.filter(title__iexact=ROLLBACK_ITEM).first()
        if item is not None and item.status != "pass":
            source = deploy.rollback_of.version if deploy.rollback_of else "?"
            if _update_item(sprint, ROLLBACK_ITEM,
                            f"Rolled back {deploy.environment} from {source} to {deploy.version}"
                            f"{f' by {deploy.performed_by}' if deploy.performed_by else ''} on {when}; "
                            "the smoke test after the rollback passed.", findings_url(deploy)):
                sprint.log(None, f"“{ROLLBACK_ITEM}” passed: rollback to {deploy.version} smoke-tested")


def alert_smoke_failed(deploy: Deploy) -> None:
    """HOOK for the monitoring app: alert the client's channels that a deploy's smoke test failed.

    The monitoring app (built alongside) owns channels and transports; to avoid importing its models here, it
    plugs in by naming a callable `f(deploy)` in settings.DEPLOY_SMOKE_FAILED_HOOK. Until then we only log."""
    hook = getattr(settings, "DEPLOY_SMOKE_FAILED_HOOK", "")
    log.warning("deploy %s of %s failed its smoke test", deploy.pk, deploy.client_id)
    if hook:
        try:
            with transaction.atomic():  # a savepoint: a database error in the hook leaves the verdict's transaction usable
                import_string(hook)(deploy)
        except Exception:  # an alerting fault must not lose the verdict
            log.exception("DEPLOY_SMOKE_FAILED_HOOK failed for deploy %s", deploy.pk)


def readiness(client) -> dict:
    """Score, grade, decision and blockers of the client's latest finished full scan (smoke-only scans and
    other partial scans are not a readiness verdict)."""
    from apps.checks.engine import scoring

    for scan in client.scans.filter(state=ScanRun.DONE).order_by("-finished_at")[:50]:
        if scan.options.get("only"):
            continue
        blockers = [{"check": f.check, "target": f.target, "reason": f.summary}
                    for f in pipeline.engine_findings(scan) if scoring.blocks_launch(f)]
        return {"client": str(client.pk), "scan": str(scan.pk), "finished_at": scan.finished_at,
                "score": scan.score, "grade": scan.grade, "decision": scan.decision, "go": scan.decision == "go",
                "blockers": blockers, "findings_url": absolute(reverse("checks:detail",
                                                                        kwargs={"scanrun_id": scan.pk}))}
    return {"client": str(client.pk), "scan": None, "finished_at": None, "score": None, "grade": "",
            "decision": "", "go": False, "blockers": [], "findings_url": None}
