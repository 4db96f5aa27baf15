"""`handover.complete` (SPEC.md §3, stage 7): can this sprint's handover pack be issued?

A plain function over the product's data. Each gap is an engine Finding that names what is missing and links
(evidence["form"]) to the form that fills it.
"""

from django.urls import reverse

from apps.checks.engine.findings import Finding

from .monitoring_seam import monitoring_summary

CHECK = "handover.complete"


def latest_scan(sprint):
    """The latest completed scan of the sprint, else of its client."""
    from apps.checks.models import ScanRun

    done = ScanRun.objects.full().filter(state=ScanRun.DONE).order_by("-finished_at", "-created_at")
    return done.filter(sprint=sprint).first() or done.filter(client_id=sprint.client_id).first()


def _gap(key, target, summary, form, remediation):
    return Finding(check=CHECK, target=target, status="fail", severity="high", summary=summary,
                   evidence={"missing": key, "form": form}, remediation=remediation)


def complete(sprint, *, scan=None, monitoring=None) -> list[Finding]:
    """The gaps that keep the pack from being complete; an empty list means it can be issued as is."""
    client = sprint.client
    scan = scan if scan is not None else latest_scan(sprint)
    monitoring = monitoring if monitoring is not None else monitoring_summary(client)
    add = lambda kind: reverse(f"clients:{kind}_add", kwargs={"client_id": client.pk})  # noqa: E731
    sprint_url = reverse("sprints:detail", kwargs={"sprint_id": sprint.pk})
    domain = client.domain
    gaps = []

    has_dns = scan is not None and scan.findings.filter(check_id="dns.records").exclude(evidence__records={}).exists()
    if not has_dns:
        gaps.append(_gap("dns_records", domain, "No DNS records captured: no completed scan has read them.",
                         sprint_url + "#scan", "Run a scan from the sprint page."))
    if not client.env_vars.exists():
        gaps.append(_gap("env_vars", domain, "No environment-variable names are listed.", add("envvar"),
                         "List every environment variable by name (never its value)."))
    steps = client.runbook_steps
    if not steps.filter(kind="deploy").exists():
        gaps.append(_gap("deploy_steps", domain, "No deploy steps are written down.", add("runbookstep"),
                         "Add the deploy steps in order."))
    if not steps.filter(kind="rollback").exists():
        gaps.append(_gap("rollback_steps", domain, "No rollback steps are written down.", add("runbookstep"),
                         "Add the rollback steps in order."))
    elif not steps.filter(kind="rollback", last_tested__isnull=False).exists():
        gaps.append(_gap("rollback_tested", domain, "The rollback has never been tested.",
                         add("runbookstep"),
                         "Test the rollback once and record the date on its step."))
    if monitoring is None:
        gaps.append(_gap("monitoring", domain, "Monitoring is not configured: no monitors or alert channels.",
                         add("endpoint"), "Declare the endpoints and set up monitors with an owned alert channel."))
    elif not any((c.get("owner") or "").strip() for c in monitoring["channels"]):
        gaps.append(_gap("monitoring_owner", domain, "No alert channel has an owner.",
                         monitoring["setup_url"] or add("endpoint"), "Give each alert channel an owner."))
    if not client.vendor_accounts.exists():
        gaps.append(_gap("vendor_accounts", domain, "No vendor accounts are listed.", add("vendoraccount"),
                         "List each vendor account with its owner, login identity and 2FA."))
    unplanned = list(client.env_vars.filter(secret=True, rotation_due__isnull=True).values_list("name", flat=True))
    if unplanned:
        gaps.append(_gap("rotation_plan", domain,
                         f"No rotation date for {len(unplanned)} secret(s): {', '.join(unplanned[:5])}.",
                         add("envvar"), "Set a rotation-due date on every secret environment variable."))
    if not client.owners.exists():
        gaps.append(_gap("owners", domain, "Nobody is named as owner of any area after handover.", add("owner"),
                         "Name an owner for DNS, billing, on-call and the other areas."))
    return gaps
