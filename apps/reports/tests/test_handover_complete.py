"""handover.complete: every gap names what is missing and links the form that fills it."""

import pytest
from django.urls import reverse

from apps.reports import handover

pytestmark = pytest.mark.django_db

MONITORING = {"monitors": [{"name": "Homepage", "url": "https://orbit.example/", "interval": "1 min"}],
              "channels": [{"kind": "email", "target": "oncall@orbit.example", "owner": "Ana Ruiz"}],
              "status_page": "", "setup_url": ""}


def missing(gaps):
    return {g.evidence["missing"] for g in gaps}


def test_an_empty_client_has_every_gap_with_a_form_link(cast):
    gaps = handover.complete(cast.orbit_sprint)
    assert missing(gaps) == {"dns_records", "env_vars", "deploy_steps", "rollback_steps", "monitoring",
                             "vendor_accounts", "owners"}
    forms = {g.evidence["missing"]: g.evidence["form"] for g in gaps}
    client_id = cast.orbit.pk
    assert forms["env_vars"] == reverse("clients:envvar_add", kwargs={"client_id": client_id})
    assert forms["vendor_accounts"] == reverse("clients:vendoraccount_add", kwargs={"client_id": client_id})
    assert forms["owners"] == reverse("clients:owner_add", kwargs={"client_id": client_id})
    assert forms["deploy_steps"] == reverse("clients:runbookstep_add", kwargs={"client_id": client_id})
    assert forms["dns_records"].startswith(reverse("sprints:detail", kwargs={"sprint_id": cast.orbit_sprint.pk}))
    assert all(g.check == "handover.complete" and g.status == "fail" and g.summary for g in gaps)


def test_a_complete_handover_has_no_gaps(handover_world):
    assert handover.complete(handover_world.orbit_sprint, monitoring=MONITORING) == []


def test_untested_rollback_unowned_channels_and_unplanned_secrets_are_gaps(handover_world):
    client = handover_world.orbit
    client.runbook_steps.filter(kind="rollback").update(last_tested=None)
    client.env_vars.filter(name="DATABASE_URL").update(rotation_due=None)
    unowned = {**MONITORING, "channels": [{"kind": "slack", "target": "#alerts", "owner": ""}]}
    gaps = handover.complete(handover_world.orbit_sprint, monitoring=unowned)
    assert missing(gaps) == {"rollback_tested", "monitoring_owner", "rotation_plan"}
    assert "DATABASE_URL" in next(g.summary for g in gaps if g.evidence["missing"] == "rotation_plan")


def test_monitoring_reads_not_configured_without_the_monitoring_seam(handover_world):
    from apps.reports.monitoring_seam import monitoring_summary

    assert monitoring_summary(handover_world.orbit) is None
    assert "monitoring" in missing(handover.complete(handover_world.orbit_sprint))


def test_the_pack_shows_the_real_monitoring_setup_without_channel_credentials(handover_world):
    # Before: apps.monitoring had no handover provider, so every pack said "Monitoring: not configured" (and
    # issuing it needed an override) however well monitoring was set up.
    from apps.monitoring.models import AlertChannel, Monitor, StatusPage
    from apps.reports import documents

    client, sprint = handover_world.orbit, handover_world.orbit_sprint
    assert "monitoring" in missing(handover.complete(sprint))
    Monitor.objects.create(client=client, name="Homepage", url="https://orbit.example/", interval_seconds=60)
    Monitor.objects.create(client=client, name="Health", url="https://orbit.example/health", interval_seconds=45,
                           paused=True)
    slack_url = "https://hooks.slack.com/services/T000/B000/" + "x" * 24  # the URL is the credential
    channel = AlertChannel(client=client, kind="slack", name="On-call", owner="Ana Ruiz")
    channel.target = slack_url
    channel.save()
    off = AlertChannel(client=client, kind="email", name="Old", owner="Nobody", enabled=False)
    off.target = "old@orbit.example"
    off.save()
    page = StatusPage.objects.create(client=client, enabled=True)
    assert handover.complete(sprint) == []
    html = documents.handover_html(sprint)
    assert "Monitoring: not configured" not in html
    for text in ["Homepage", "https://orbit.example/health", "every 1 min", "every 45 s (paused)",
                 "https://hooks.slack.com/…", "Ana Ruiz", f"/status/{page.token}/"]:
        assert text in html, text
    assert slack_url not in html and "B000" not in html and "old@orbit.example" not in html
    AlertChannel.objects.filter(pk=channel.pk).update(owner=" ")
    assert missing(handover.complete(sprint)) == {"monitoring_owner"}


def test_the_monitoring_seam_uses_the_monitoring_apps_summary(handover_world, monkeypatch):
    import sys
    import types

    from apps.reports.monitoring_seam import monitoring_summary

    module = types.ModuleType("apps.monitoring.handover")
    module.handover_summary = lambda client: MONITORING
    monkeypatch.setitem(sys.modules, "apps.monitoring.handover", module)
    assert monitoring_summary(handover_world.orbit)["channels"][0]["owner"] == "Ana Ruiz"
    assert handover.complete(handover_world.orbit_sprint) == []

    module.handover_summary = lambda client: 1 / 0  # a broken provider reads as "not configured"
    assert monitoring_summary(handover_world.orbit) is None
