"""Handover pack screens: consultants preview, generate and issue; founders download issued packs."""

import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core import ratelimit
from apps.tenants.access import (
    CONSULTANT_ROLES,
    get_scan_for,
    get_score_by_token,
    get_sprint_child_for,
    get_sprint_for,
)

from . import documents
from .content import handover_context
from .forms import IssuePackForm
from .handover import complete
from .models import HandoverPack


def _page_context(sprint, role, form=None):
    consultant = role in CONSULTANT_ROLES
    packs = list(sprint.handover_packs.select_related("issued_by", "requested_by"))
    if not consultant:
        packs = [p for p in packs if p.is_issued and p.is_ready]
    gaps = complete(sprint) if consultant else []
    draft = next((p for p in packs if p.state == HandoverPack.DRAFT), None)
    return {"sprint": sprint, "client": sprint.client, "packs": packs, "gaps": gaps, "can_edit": consultant,
            "draft": draft, "issue_form": form or IssuePackForm(gaps=gaps)}


@login_required
def handover(request, sprint_id):
    sprint, role = get_sprint_for(request, sprint_id)
    return render(request, "reports/handover.html", _page_context(sprint, role))


@login_required
def preview(request, sprint_id):
    """The pack as HTML, rendered now from the current data (what the next generate would print)."""
    sprint, _ = get_sprint_for(request, sprint_id, consultant=True)
    context = handover_context(sprint)
    return render(request, "reports/preview.html", {**context, "pdf": False})


@login_required
@require_POST
def generate(request, sprint_id):
    sprint, _ = get_sprint_for(request, sprint_id, consultant=True)
    pack = HandoverPack.request_for(sprint, request.user)
    if _queue(pack):
        messages.success(request, f"Generating handover pack {pack.label}: the PDF appears here in a few seconds.")
    else:
        messages.warning(request, f"The report queue is unavailable right now. Handover pack {pack.label} is "
                                  f"recorded and is rendered as soon as the queue is back; no need to click again.")
    return redirect("reports:handover", sprint_id=sprint.pk)


def _queue(pack) -> bool:
    """Queue the pack's render once the row is committed; False when the broker did not take it (the stalled-pack
    sweep queues it later, so nothing is lost)."""
    outcome = []
    transaction.on_commit(lambda: outcome.append(documents.dispatch(pack.pk)))
    return all(outcome)


@login_required
@require_POST
def issue(request, handoverpack_id):
    pack, role = get_sprint_child_for(request, HandoverPack, handoverpack_id, consultant=True)
    sprint = pack.sprint
    gaps = complete(sprint)
    form = IssuePackForm(request.POST, gaps=gaps)
    if pack.is_issued:
        messages.info(request, f"{pack.label} is already issued; it cannot change. Generate a new version instead.")
        return redirect("reports:handover", sprint_id=sprint.pk)
    if form.is_valid():
        try:
            won = pack.issue(request.user, [g.summary for g in gaps], form.cleaned_data["override_reason"])
        except ValidationError as exc:
            form.add_error("override_reason", exc)
        else:
            if won and _queue(pack):
                messages.success(request, f"Issued {pack.label}. The final PDF is being rendered.")
            elif won:
                messages.warning(request, f"Issued {pack.label}. The report queue is unavailable right now: the "
                                          f"final PDF is rendered as soon as it is back.")
            return redirect("reports:handover", sprint_id=sprint.pk)
    return render(request, "reports/handover.html", _page_context(sprint, role, form=form), status=400)


@login_required
def download(request, handoverpack_id):
    """Consultants download any rendered version; founders only issued ones (drafts are 404 to them)."""
    pack, role = get_sprint_child_for(request, HandoverPack, handoverpack_id)
    if not pack.pdf or (role not in CONSULTANT_ROLES and not (pack.is_issued and pack.is_ready)):
        raise Http404
    response = FileResponse(pack.pdf.open("rb"), as_attachment=True, filename=pack.download_name,
                            content_type="application/pdf")
    response["X-Content-SHA256"] = pack.sha256
    return response


@login_required
def readiness_report(request, scanrun_id):
    """The readiness report of one scan as a PDF (short: rendered in the request)."""
    scan, _ = get_scan_for(request, scanrun_id)
    if scan.state != scan.DONE:
        raise Http404
    return _pdf_response(scan)


def score_pdf(request, token):
    """A self-serve buyer's readiness report: the order's unguessable token is the credential (no account)."""
    order = get_score_by_token(token)
    if order.scan is None or order.scan.state != order.scan.DONE:
        raise Http404
    return _pdf_response(order.scan, workspace=order.workspace)


# A readiness PDF is rendered in the request (a second or so of a web worker): a link shared around or a script
# looping on it must not take the web tier with it.
PDF_RENDERS_PER_MINUTE = 6


def _pdf_response(scan, workspace=None):
    if not ratelimit.allow("readiness-pdf", str(scan.pk), limit=PDF_RENDERS_PER_MINUTE, window=60):
        response = HttpResponse("This report was downloaded many times in the last minute: try again in a minute.",
                                status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "60"
        return response
    rendered = documents.readiness_pdf(scan, workspace)
    handle = open(rendered.path, "rb")  # noqa: SIM115 - FileResponse closes it
    os.unlink(rendered.path)  # the open handle keeps the data readable; nothing is left behind on disk
    return FileResponse(handle, as_attachment=True, filename=f"{scan.domain}-readiness.pdf",
                        content_type="application/pdf")
