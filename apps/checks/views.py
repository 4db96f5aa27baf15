import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.checklists.roadmap import STAGES
from apps.checks.engine import scoring
from apps.tenants.access import CONSULTANT_ROLES, get_client_for, get_scan_for, get_sprint_for

from . import pipeline, rescans
from .forms import DailyRescanForm
from .history import diff_scans
from .models import DailyRescan, ScanRun

FINDINGS_SHOWN_LIVE = 200
# The scan row exists when the broker refuses its tasks; beat re-dispatches it (pipeline.redispatch_stalled).
QUEUE_UNAVAILABLE = ("The scan queue is unavailable right now. Your scan is recorded and starts by itself as soon "
                     "as the queue is back; no need to click again.")
STAGE_NAMES = {number: name for number, name, _ in STAGES}


@login_required
@require_POST
def run_for_sprint(request, sprint_id):
    sprint, _ = get_sprint_for(request, sprint_id, consultant=True)
    try:
        scan = pipeline.start_scan(client=sprint.client, sprint=sprint, requested_by=request.user)
    except ImproperlyConfigured as exc:
        messages.error(request, f"The scan could not start: {exc}")
        return redirect("sprints:detail", sprint_id=sprint.pk)
    except pipeline.QueueUnavailable:
        messages.warning(request, QUEUE_UNAVAILABLE)
        return redirect("sprints:detail", sprint_id=sprint.pk)
    if request.htmx:
        return render(request, "checks/_scan_panel.html", _panel_context(scan, "owner", run_url=request.path))
    return redirect("checks:detail", scanrun_id=scan.pk)


@login_required
def run_active_for_sprint(request, sprint_id):
    """The full scan plus the active checks (load probe, chat streaming, AI probes): verified domains only."""
    sprint, _ = get_sprint_for(request, sprint_id, consultant=True)  # access first: outsiders 404 on GET too
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    client = sprint.client
    try:
        scan = pipeline.start_scan(client=client, sprint=sprint, requested_by=request.user, active=True)
    except pipeline.OwnershipNotVerified:
        messages.error(request, f"Active checks not started: ownership of {client.domain} is not verified. Add the "
                                f"TXT record or the well-known file shown on the client page, then press "
                                f"“Verify now”.")
        return redirect("sprints:detail", sprint_id=sprint.pk)
    except ImproperlyConfigured as exc:
        messages.error(request, f"The scan could not start: {exc}")
        return redirect("sprints:detail", sprint_id=sprint.pk)
    except pipeline.QueueUnavailable:
        messages.warning(request, QUEUE_UNAVAILABLE)
        return redirect("sprints:detail", sprint_id=sprint.pk)
    messages.success(request, f"Active checks started against {client.domain}; ownership is re-checked first.")
    return redirect("checks:detail", scanrun_id=scan.pk)


def _panel_context(scan, role, run_url=""):
    findings = list(scan.findings.order_by("-created_at", "check_id")[:FINDINGS_SHOWN_LIVE]) if scan else []
    return {"scan": scan, "findings": findings, "role": role, "findings_count": scan.findings.count() if scan else 0,
            "running": bool(scan and scan.state in (ScanRun.QUEUED, ScanRun.RUNNING)), "run_url": run_url}


@login_required
def scan_detail(request, scanrun_id):
    scan, role = get_scan_for(request, scanrun_id)
    findings = list(scan.findings.all())
    engine = pipeline.engine_findings_from(findings)
    context = _panel_context(scan, role)
    context.update({
        "client": scan.client, "can_edit": role in CONSULTANT_ROLES,
        "risks": scoring.risks(engine),
        "by_stage": _by_stage(findings),
        "previous": scan.client.scans.full().filter(state=ScanRun.DONE, created_at__lt=scan.created_at).first(),
    })
    return render(request, "checks/scan_detail.html", context)


def _by_stage(findings):
    stages = {}
    for f in sorted(findings, key=lambda f: (scoring.stage_of(f.check_id), scoring.STATUS_RANK[f.status],
                                            f.check_id, f.target)):
        stages.setdefault(scoring.stage_of(f.check_id), []).append(f)
    return [(number, STAGE_NAMES[number], items) for number, items in sorted(stages.items())]


@login_required
def scan_progress(request, scanrun_id):
    """The live panel (htmx polls it while the scan runs)."""
    scan, role = get_scan_for(request, scanrun_id)
    run_url = ""
    if scan.sprint_id and role in CONSULTANT_ROLES and request.GET.get("run") == "1":
        run_url = reverse("checks:run_for_sprint", kwargs={"sprint_id": scan.sprint_id})
    return render(request, "checks/_scan_panel.html", _panel_context(scan, role, run_url))


@login_required
def scan_diff(request, scanrun_id):
    scan, role = get_scan_for(request, scanrun_id)
    against = request.GET.get("against", "")
    older = None
    if against:
        try:
            older, _ = get_scan_for(request, uuid.UUID(against))
        except ValueError:
            raise Http404 from None
        if older.client_id != scan.client_id:
            raise Http404
    else:
        older = scan.client.scans.full().filter(state=ScanRun.DONE, created_at__lt=scan.created_at).first()
    if older is None:
        messages.info(request, "There is no earlier finished scan of this client to compare with.")
        return redirect("checks:detail", scanrun_id=scan.pk)
    return render(request, "checks/scan_diff.html", {
        "scan": scan, "older": older, "client": scan.client, "changes": diff_scans(older, scan),
        "choices": scan.client.scans.full().filter(state=ScanRun.DONE).exclude(pk=scan.pk)[:30],
    })


@login_required
def client_scans(request, client_id):
    client, role = get_client_for(request, client_id)
    scans = list(client.scans.select_related("sprint", "requested_by")[:100])
    trend = [s.score for s in reversed(scans) if s.score is not None and not s.options.get("only")]
    schedule = DailyRescan.objects.filter(client=client).first()
    form = DailyRescanForm(initial={"enabled": bool(schedule and schedule.enabled)})
    return render(request, "checks/client_scans.html", {"client": client, "scans": scans, "trend": trend,
                                                          "role": role, "can_edit": role in CONSULTANT_ROLES,
                                                          "schedule": schedule, "rescan_form": form})


@login_required
@require_POST
def daily_rescan(request, client_id):
    client, _ = get_client_for(request, client_id, consultant=True)
    form = DailyRescanForm(request.POST)
    if form.is_valid():  # a BooleanField accepts anything; unknown values read as "off"
        enabled = form.cleaned_data["enabled"]
        rescans.set_daily_rescan(client, enabled)
        messages.success(request, "Daily re-scan is on." if enabled else "Daily re-scan is off.")
    return redirect("checks:client_scans", client_id=client.pk)
