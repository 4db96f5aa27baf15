"""Monitoring screens: the operations view per client, monitor and channel forms, the test-alert button and the
opt-in public status page. Every tenant object comes through apps.tenants.access (outsiders get 404)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse

from apps.tenants.access import CONSULTANT_ROLES, get_client_child_for, get_client_for

from . import overview, service
from .alerts import send_test_alert
from .forms import AlertChannelForm, MonitorControlForm, MonitorForm
from .models import AlertAttempt, AlertChannel, Incident, Monitor, StatusPage


def _ops_url(client):
    return reverse("monitoring:operations", kwargs={"client_id": client.pk})


@login_required
def operations(request, client_id):
    client, role = get_client_for(request, client_id)
    rows = overview.monitor_rows(client)
    status_page = StatusPage.objects.filter(client=client).first()
    return render(request, "monitoring/operations.html", {
        "client": client, "rows": rows, "overall": overview.overall_status(rows),
        "open_incidents": overview.open_incidents(client), "alerts": overview.recent_alerts(client),
        "channels": client.alert_channels.all(), "owners": client.owners.all(),
        "is_consultant": role in CONSULTANT_ROLES, "status_page": status_page,
        "status_url": request.build_absolute_uri(reverse("monitoring:status_page", kwargs={"token": status_page.token}))
        if status_page and status_page.enabled else "",
    })


@login_required
def monitor_add(request, client_id):
    client, _ = get_client_for(request, client_id, consultant=True)
    form = MonitorForm(request.POST if request.method == "POST" else None, client=client)
    if request.method == "POST" and form.is_valid():
        monitor = form.save()
        messages.success(request, f"Monitoring {monitor.url} every {monitor.interval_seconds} s.")
        return redirect(_ops_url(client))
    return render(request, "monitoring/form.html", {"client": client, "form": form, "title": "Add a monitor",
                                                    "submit": "Add monitor"})


@login_required
def monitor_edit(request, monitor_id):
    monitor, _ = get_client_child_for(request, Monitor, monitor_id, consultant=True)
    form = MonitorForm(request.POST if request.method == "POST" else None, instance=monitor, client=monitor.client)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Monitor saved.")
        return redirect(_ops_url(monitor.client))
    return render(request, "monitoring/form.html", {"client": monitor.client, "form": form,
                                                    "title": f"Edit {monitor.name}", "submit": "Save"})


@login_required
def monitor_control(request, monitor_id):
    """Pause or set a maintenance window: founders may do this too."""
    monitor, _ = get_client_child_for(request, Monitor, monitor_id)
    form = MonitorControlForm(request.POST if request.method == "POST" else None, instance=monitor)
    if request.method == "POST" and form.is_valid():
        form.save()
        if monitor.paused:
            service.stop_watching(monitor, request.user)
        messages.success(request, f"{monitor.name}: {'paused' if monitor.paused else 'active'}.")
        return redirect(_ops_url(monitor.client))
    return render(request, "monitoring/form.html", {"client": monitor.client, "form": form,
                                                    "title": f"Pause or maintenance: {monitor.name}",
                                                    "submit": "Save"})


@login_required
def channel_add(request, client_id):
    client, _ = get_client_for(request, client_id)
    form = AlertChannelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        channel = form.save(client)
        messages.success(request, f"Alert channel {channel.name} added. Send a test alert to verify it.")
        return redirect(_ops_url(client))
    return render(request, "monitoring/form.html", {"client": client, "form": form, "title": "Add an alert channel",
                                                    "submit": "Add channel"})


@login_required
def channel_test(request, alertchannel_id):
    channel, _ = get_client_child_for(request, AlertChannel, alertchannel_id)
    if request.method != "POST":  # after the access check: outsiders get 404 whatever the method
        return HttpResponseNotAllowed(["POST"])
    attempt = send_test_alert(channel)
    if attempt is not None and attempt.status == AlertAttempt.SENT:
        messages.success(request, f"Test alert delivered to {channel.name}.")
    else:
        messages.error(request, f"Test alert to {channel.name} failed: {attempt.error if attempt else 'busy'}")
    return redirect(_ops_url(channel.client))


@login_required
def status_page_toggle(request, client_id):
    client, _ = get_client_for(request, client_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    page, _ = StatusPage.objects.get_or_create(client=client)
    page.enabled = not page.enabled
    page.save(update_fields=["enabled"])
    messages.success(request, "Public status page " + ("published." if page.enabled else "taken down."))
    return redirect(_ops_url(client))


def status_page(request, token):
    """Public, opt-in: current status, 90-day bars, incident history. No IPs, URLs, error bodies or causes in
    internal wording."""
    page = StatusPage.objects.select_related("client__workspace").filter(token=token, enabled=True).first()
    if page is None:
        raise Http404
    client = page.client
    monitors = [m for m in client.monitors.filter(enabled=True)]
    components = [{"name": m.name, "status": m.status_word, "bars": overview.uptime_bars(m)} for m in monitors]
    incidents = Incident.objects.filter(monitor__client=client).select_related("monitor")[:20]
    down = any(c["status"] == "down" for c in components)
    return render(request, "monitoring/status_page.html", {
        "client": client, "components": components, "incidents": incidents,
        "overall": "down" if down else ("up" if components else "unknown")})
