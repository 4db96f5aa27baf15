import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F, prefetch_related_objects
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse

from apps.checklists.models import SprintItem
from apps.reports.models import HandoverPack
from apps.tenants.access import (
    CONSULTANT_ROLES,
    consultant_clients_of,
    founder_clients_of,
    get_client_for,
    get_sprint_child_for,
    get_sprint_for,
    user_roles,
)

from .forms import DecisionForm, SprintItemForm, SprintStartForm, SprintStatusForm
from .models import ActivityEntry, Sprint

RECENT_HANDOVERS = 5
DASHBOARD_CLIENT_FIELDS = ("id", "workspace_id", "name", "domain")
DASHBOARD_SPRINT_FIELDS = ("id", "client_id", "title", "status", "decision", "starts_at", "due_at", "handed_over_at")
ACTIVITY_SHOWN = 50
FINDINGS_SHOWN = 12  # the scan panel's feed
SCAN_PANEL_FIELDS = ("id", "created_at", "sprint", "domain", "state", "score", "grade", "decision", "parts_done",
                     "parts_total", "failure_reason")
FINDING_FEED_FIELDS = ("id", "scan", "status", "check_id", "target", "summary")
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def brand_colours(workspace):
    """The workspace's colours for founder-facing pages. They land inside a <style> block, so only well-formed
    hex values get there, whatever the row holds."""
    if workspace is None:
        return None
    primary, accent = workspace.primary_colour, workspace.accent_colour
    if not (HEX_COLOUR.fullmatch(primary or "") and HEX_COLOUR.fullmatch(accent or "")):
        return None
    return {"primary": primary, "accent": accent}


@login_required
def dashboard(request):
    """Every planned/active sprint across the clients of the user's workspaces, in a constant number of queries.

    The user's clients are read once (the scoping query) and the other queries filter on their ids: the same rows
    as filtering each query on the scoping subquery, with less for PostgreSQL to plan and nothing to join back."""
    if not user_roles(request).consultant:
        return redirect("sprints:portal")
    # Only the columns the page shows: fetching, parsing and setting 25 clients' notes, JSON and timestamps and
    # 30 sprints' rationale and timestamps cost a few per cent of the page (a deferred column read later would be
    # a query per row, which the query-budget tests catch).
    clients = {client.pk: client for client in
               consultant_clients_of(request.user).only(*DASHBOARD_CLIENT_FIELDS).order_by("name")}
    sprints = (
        Sprint.objects.filter(client__in=list(clients)).running().only(*DASHBOARD_SPRINT_FIELDS)
        .with_latest_scan()
        .order_by("due_at", "client__name")
        .attach_stage_progress()
    )
    handed_over = list(
        Sprint.objects.filter(client__in=list(clients), status=Sprint.HANDED_OVER).only(*DASHBOARD_SPRINT_FIELDS)
        .order_by(F("handed_over_at").desc(nulls_last=True), "-due_at")[:RECENT_HANDOVERS]
    )
    for sprint in (*sprints, *handed_over):
        sprint.client = clients[sprint.client_id]
    running = {sprint.client_id for sprint in sprints}
    idle_clients = [client for client in clients.values() if client.pk not in running]  # in name order
    return render(request, "sprints/dashboard.html", {
        "sprints": sprints, "handed_over": handed_over, "idle_clients": idle_clients,
    })


@login_required
def sprint_new(request, client_id):
    client, _ = get_client_for(request, client_id, consultant=True)
    form = SprintStartForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        sprint = Sprint.start(client=client, template=form.cleaned_data["template"], created_by=request.user,
                              **form.sprint_fields())
        messages.success(request, f"Sprint started for {client.name}.")
        return redirect("sprints:detail", sprint_id=sprint.pk)
    return render(request, "sprints/form_page.html", {
        "heading": f"Start a sprint for {client.name}", "form": form, "submit": "Start the sprint",
        "cancel_url": reverse("sprints:dashboard"),
    })


def _sprint_page_context(sprint, role):
    # Only the columns the rows show (item_row, activity_rows, the scan panel): the rest — the scan's target and
    # options JSON, the findings' evidence, whole user rows — cost a fifth of these queries to compile, fetch and
    # decode for nothing. A deferred column read later would be a query per row: the query-budget tests catch it.
    items = sprint.items.select_related("updated_by").only(*SprintItem.ROW_FIELDS)
    can_edit = role in CONSULTANT_ROLES
    context = {
        "sprint": sprint, "client": sprint.client, "role": role, "can_edit": can_edit,
        "stages": sprint.stages_with_items(items),
        "activity": sprint.activity.select_related("actor").only(*ActivityEntry.ROW_FIELDS)[:ACTIVITY_SHOWN],
        "workspace": sprint.client.workspace,
        "brand": None if can_edit else brand_colours(sprint.client.workspace),  # founders see the consultant's brand
    }
    latest_scan = sprint.scans.full().only(*SCAN_PANEL_FIELDS).order_by("-created_at").first()
    findings = list(latest_scan.findings.only(*FINDING_FEED_FIELDS).order_by("-created_at")[:FINDINGS_SHOWN]) \
        if latest_scan else []
    context["latest_scan"] = latest_scan
    context["latest_findings"] = findings
    context["scan_running"] = bool(latest_scan and latest_scan.state in ("queued", "running"))
    context["latest_findings_count"] = latest_scan.findings.count() if latest_scan else 0
    context["run_scan_url"] = reverse("checks:run_for_sprint", kwargs={"sprint_id": sprint.pk}) if can_edit else ""
    if can_edit:
        context["status_form"] = SprintStatusForm(sprint=sprint) if sprint.next_status else None
    return context


@login_required
def sprint_detail(request, sprint_id):
    """Consultants work here; a founder of the sprint's client reads the same page without forms or notes."""
    sprint, role = get_sprint_for(request, sprint_id)
    return render(request, "sprints/sprint_detail.html", _sprint_page_context(sprint, role))


def _item_auto_id(item):
    """Unique field ids, since several item forms can be open on the sprint page at once."""
    return f"id_{item.pk.hex[:8]}_%s"


@login_required
def item_edit(request, sprintitem_id):
    """Update one item. With htmx the row swaps in place (plus progress and log out of band); without, a page."""
    item, _ = get_sprint_child_for(request, SprintItem, sprintitem_id, consultant=True)
    sprint = item.sprint
    if request.method == "POST":
        form = SprintItemForm(request.POST, instance=item, auto_id=_item_auto_id(item))
        if form.is_valid():
            form.instance.record_update(request.user, form.changed_data)
            if request.htmx:
                stages = sprint.stages_with_items(sprint.items.all())
                return render(request, "sprints/item_updated.html", {
                    "item": form.instance, "sprint": sprint, "can_edit": True,
                    "stage": next(s for s in stages if s.number == item.stage_number),
                    "activity": sprint.activity.select_related("actor")[:ACTIVITY_SHOWN],
                })
            messages.success(request, f"Updated “{item.title}”.")
            return redirect(reverse("sprints:detail", kwargs={"sprint_id": sprint.pk}) + f"#item-{item.pk}")
    else:
        form = SprintItemForm(instance=item, auto_id=_item_auto_id(item))
    template = "sprints/_item_form.html" if request.htmx else "sprints/item_edit.html"
    return render(request, template, {"item": item, "sprint": sprint, "form": form})


@login_required
def item_row(request, sprintitem_id):
    """The read-only row of an item: what htmx swaps back in when an edit is cancelled."""
    item, role = get_sprint_child_for(request, SprintItem, sprintitem_id)
    if not request.htmx:
        return redirect(reverse("sprints:detail", kwargs={"sprint_id": item.sprint_id}) + f"#item-{item.pk}")
    return render(request, "sprints/_item.html", {"item": item, "can_edit": role in CONSULTANT_ROLES})


@login_required
def decision(request, sprint_id):
    sprint, _ = get_sprint_for(request, sprint_id, consultant=True)
    if sprint.status in Sprint.DECISION_FINAL:
        messages.error(request, f"The sprint is {sprint.get_status_display().lower()}: its go/no-go is final.")
        return redirect("sprints:detail", sprint_id=sprint.pk)
    form = DecisionForm(request.POST or None, initial={
        "decision": sprint.decision, "rationale": sprint.decision_rationale, "seen": DecisionForm.seen_value(sprint)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if sprint.record_decision(data["decision"], data["rationale"], request.user, seen=data["seen"]):
            messages.success(request, f"Decision recorded: {sprint.get_decision_display()}.")
            return redirect("sprints:detail", sprint_id=sprint.pk)
        sprint.refresh_from_db()
        if sprint.status in Sprint.DECISION_FINAL:  # handed over while the form was open
            messages.error(request, f"The sprint is {sprint.get_status_display().lower()}: its go/no-go is final.")
            return redirect("sprints:detail", sprint_id=sprint.pk)
        form = DecisionForm(initial={"decision": sprint.decision, "rationale": sprint.decision_rationale,
                                     "seen": DecisionForm.seen_value(sprint)})
        messages.error(request, f"{sprint.decided_by.display_name if sprint.decided_by else 'Someone'} recorded "
                                f"\"{sprint.get_decision_display()}\" since you opened the form: read it, then submit "
                                f"yours again if it should replace it.")
    return render(request, "sprints/form_page.html", {
        "heading": f"Go / no-go for {sprint.client.name}", "form": form, "submit": "Record the decision",
        "cancel_url": reverse("sprints:detail", kwargs={"sprint_id": sprint.pk}),
    })


@login_required
def status(request, sprint_id):
    sprint, _ = get_sprint_for(request, sprint_id, consultant=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if request.POST.get("status") == sprint.status:  # a double click, or a page that was already stale
        messages.info(request, f"The sprint is already {sprint.get_status_display().lower()}.")
        return redirect("sprints:detail", sprint_id=sprint.pk)
    form = SprintStatusForm(request.POST, sprint=sprint)
    if form.is_valid():
        if sprint.change_status(form.cleaned_data["status"], request.user):
            messages.success(request, f"The sprint is now {sprint.get_status_display().lower()}.")
        else:
            messages.error(request, f"Someone else just changed the status: it is {sprint.get_status_display()}.")
        return redirect("sprints:detail", sprint_id=sprint.pk)
    return render(request, "sprints/form_page.html", {
        "heading": f"Change the status of {sprint}", "form": form, "submit": "Change status",
        "cancel_url": reverse("sprints:detail", kwargs={"sprint_id": sprint.pk}),
    }, status=400)


@login_required
def portal(request):
    """A founder's own client(s): the current sprint's stages, items, evidence and decision — nothing else."""
    clients = founder_clients_of(request.user).select_related("workspace").order_by("name")
    current = Sprint.objects.current_for(clients)
    clients = list(clients)
    for client in clients:  # each sprint's client is one of these: no query to fetch them again
        if client.pk in current:
            current[client.pk].client = client
    prefetch_related_objects(list(current.values()), "delivery_tests")  # the delivery test panels
    HandoverPack.attach_issued(current.values())
    cards = [{"client": client, "sprint": current.get(client.pk)} for client in clients]
    # The consultancy's brand when one consultancy serves all of the founder's clients; with two, neither's.
    workspaces = {client.workspace_id for client in clients}
    workspace = clients[0].workspace if len(workspaces) == 1 else None
    return render(request, "sprints/portal.html", {
        "cards": cards, "workspace": workspace, "brand": brand_colours(workspace),
    })
