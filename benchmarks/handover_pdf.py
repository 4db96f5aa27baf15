"""Benchmark: render a realistic handover pack (20+ pages) from product data, as the `reports` worker does.

Run from the repository root: `python benchmarks/handover_pdf.py`. Uses a throwaway SQLite database and media
folder in a temporary directory (never the shared services). Renders once cold, then RUNS times warm;
render_s is the median warm render (data → HTML → PDF file), peak_mb the process's peak resident memory.
Last line: `handover_pdf pages=… render_s=… peak_mb=…`.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# benchmarks/email.py would shadow the stdlib `email` package: drop this folder from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
RUNS = 3


def build_world():
    """One workspace, one client with a large but plausible inventory, a finished scan and a full checklist."""
    from django.utils import timezone

    from apps.checks.models import Finding, ScanRun
    from apps.clients import models as cm
    from apps.sprints.models import Sprint
    from apps.tenants.models import Membership, User, Workspace

    owner = User.objects.create_user("bench@consultancy.test", "bench-password-1", name="Bench Consultant")
    workspace = Workspace.objects.create(name="Northstar Launch Partners", slug="bench", primary_colour="#0f766e",
                                         accent_colour="#f97316", footer_text="Northstar · launch week, no surprises")
    Membership.objects.create(user=owner, workspace=workspace, role="owner")
    client = cm.Client.objects.create(workspace=workspace, name="Helio Learning", domain="helio.example")
    hosts = ["helio.example"] + [f"{h}.helio.example" for h in
                                 ("www", "app", "api", "docs", "auth", "status", "cdn", "admin", "eu", "us", "ws")]
    today = date.today()
    cm.EnvVar.objects.bulk_create(
        cm.EnvVar(client=client, name=f"SERVICE_{i:02d}_{kind}", environments=envs, where_stored=store,
                  secret=kind in ("KEY", "TOKEN"), rotation_due=today + timedelta(days=10 + i))
        for i in range(16)
        for kind, envs, store in (("KEY", ["staging", "production"], "AWS Secrets Manager"),
                                  ("URL", ["development", "staging", "production"], "Vercel project"),
                                  ("TOKEN", ["production"], "GitHub Actions secrets")))
    cm.VendorAccount.objects.bulk_create(
        cm.VendorAccount(client=client, vendor=f"Vendor {i:02d}", purpose=p, owner="Ana Ruiz",
                         login_identity=f"ops+{i}@helio.example", two_factor=i % 4 != 0, billing_owner="Leo Park")
        for i, p in enumerate(["Hosting", "Database", "Email", "Payments", "Monitoring", "DNS", "CDN", "Auth",
                               "Analytics", "Support desk", "Error tracking", "Search", "Storage", "AI model",
                               "CI", "Status page", "Feature flags", "Logging"]))
    steps = [cm.RunbookStep(client=client, kind="deploy", position=i, text=f"Deploy step {i}: {t}",
                            command=f"make deploy-step-{i}")
             for i, t in enumerate(["merge to main", "CI runs tests", "build the image", "push to registry",
                                    "run migrations", "canary 5%", "watch error rate", "promote to 100%",
                                    "purge CDN", "smoke test", "post in #launch", "tag the release"], 1)]
    steps += [cm.RunbookStep(client=client, kind="rollback", position=i, text=f"Rollback step {i}: {t}",
                             command=f"make rollback-step-{i}", last_tested=today - timedelta(days=2) if i < 4 else None)
              for i, t in enumerate(["freeze deploys", "pick the previous image", "redeploy it", "revert migrations",
                                     "purge CDN", "confirm /health", "tell support", "write the incident note"], 1)]
    cm.RunbookStep.objects.bulk_create(steps)
    cm.Owner.objects.bulk_create(cm.Owner(client=client, area=a, person=p, contact=f"{p.split()[0].lower()}@helio.example")
                                 for a, p in [("DNS", "Ana Ruiz"), ("Billing", "Leo Park"), ("On-call", "Sam Patel"),
                                              ("Database", "Ana Ruiz"), ("Email", "Leo Park"), ("AI", "Sam Patel"),
                                              ("Security", "Maya Chen"), ("Support", "Leo Park")] * 2)
    sprint = Sprint.start(client=client, created_by=owner, status=Sprint.ACTIVE)
    for n, item in enumerate(sprint.items.all()):
        item.status = "done"
        item.evidence_text = (f"Checked on day {1 + n % 2}: " + "verified with screenshots and logs; " * 6).strip()
        item.evidence_link = f"https://docs.helio.example/evidence/{n}"
        item.save()
    sprint.record_decision(Sprint.GO, "All blockers fixed; rollback tested on day 2. Launch approved.", owner)
    scan = ScanRun.objects.create(client=client, sprint=sprint, profile="internet", domain=client.domain,
                                  state=ScanRun.DONE, score=84, grade="B", decision="go",
                                  finished_at=timezone.now())
    findings = []
    for i, host in enumerate(hosts):
        records = {"A": [f"203.0.113.{10 + i}", f"203.0.113.{40 + i}"], "AAAA": [f"2001:db8::{i + 1}"],
                   "TXT": [f'"site-verification={i:04d}abcdef"']}
        if host == "helio.example":
            records.update({"NS": ["ns1.dns.example.", "ns2.dns.example."], "MX": ["10 mx1.mail.example.",
                            "20 mx2.mail.example."], "CAA": ['0 issue "letsencrypt.org"']})
        findings.append(Finding(scan=scan, check_id="dns.records", target=host, status="pass", severity="medium",
                                summary=f"{host} resolves.", evidence={"records": records,
                                                                       "ttls": {t: 300 for t in records}}))
        findings.append(Finding(scan=scan, check_id="tls.certificate", target=host, status="pass",
                                severity="blocker", summary="Valid.", evidence={
                                    "issuer_cn": "R11", "not_after": "2027-02-01T00:00:00", "days_left": 65,
                                    "sans": [host]}))
        for check, status in (("http.hsts", "warn"), ("http.security_headers", "warn"), ("edge.cdn", "pass"),
                              ("edge.caching", "pass"), ("http.https_redirect", "pass"), ("dns.dangling", "pass")):
            findings.append(Finding(scan=scan, check_id=check, target=host, status=status, severity="medium",
                                    summary=f"{check} on {host}: {status}.", evidence={"provider": "Fastly"},
                                    remediation="Follow the remediation guide for this header."))
        findings.append(Finding(scan=scan, check_id="perf.latency", target=f"https://{host}/", status="pass",
                                severity="high", summary="Fast.", evidence={
                                    "url": f"https://{host}/", "p50_ms": 40 + i * 7, "p95_ms": 150 + i * 20,
                                    "p99_ms": 300 + i * 35, "planned_rate": 20, "error_rate": 0.0}))
    for check in ("email.mx", "email.spf", "email.dkim", "email.dmarc", "email.tls_rpt", "email.mta_sts"):
        findings.append(Finding(scan=scan, check_id=check, target=client.domain, status="pass", severity="high",
                                summary=f"{check} is fine.", evidence={"record": f"v={check} policy record"}))
    Finding.objects.bulk_create(findings)
    return sprint, owner


def main() -> None:
    workdir = tempfile.mkdtemp(prefix="handover-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"  # a private file, never the shared DB
    os.environ["MEDIA_ROOT"] = f"{workdir}/media"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchready.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    import logging

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from apps.reports.documents import generate_pack, handover_html
    from apps.reports.models import HandoverPack
    from apps.reports.render import render_pdf

    sprint, owner = build_world()
    pack = HandoverPack.request_for(sprint, owner)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    timings = []
    for _ in range(RUNS + 1):
        started = time.perf_counter()
        rendered = render_pdf(handover_html(pack))
        timings.append(time.perf_counter() - started)
        os.unlink(rendered.path)
    generate_pack(pack.pk)  # the worker's path end to end (render + store + sha256)
    pack.refresh_from_db()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cold, warm = timings[0], timings[1:]
    print(f"cold_s={cold:.2f} warm_s={' '.join(f'{t:.2f}' for t in warm)} rss_before_render_mb={rss_before:.0f} "
          f"stored={pack.pdf.size} bytes sha256={pack.sha256[:12]}…")
    print(f"handover_pdf pages={rendered.pages} render_s={statistics.median(warm):.2f} peak_mb={peak:.0f}")


if __name__ == "__main__":
    main()
