"""Active scans from the sprint page: refused for unverified domains, run (and re-verified) for verified ones,
with the sprint's AI canaries and the load probe's bounded rate; the demo's NovaChat verifies in the test world."""

import pytest
from django.urls import reverse

from apps.checks import pipeline
from apps.checks.models import ScanRun, SprintCanaries
from apps.clients.models import Client, Endpoint
from apps.sprints.models import Sprint
from tests.testworld.demo_sites import NOVACHAT_VERIFY_TOKEN

pytestmark = pytest.mark.django_db


@pytest.fixture
def world_state(testworld, settings, tmp_path):
    path = tmp_path / "testworld.json"
    testworld.write_state(path)
    settings.TESTWORLD_STATE_FILE = path
    settings.ACTIVE_SCAN_RATE = 10
    settings.ACTIVE_SCAN_DURATION = 1
    return path


@pytest.fixture
def novachat(cast, world_state):
    """A client on the demo's NovaChat domain, whose TXT record carries the demo token."""
    client = Client.objects.create(workspace=cast.acme, name="NovaChat", domain="novachat.lrtest",
                                   network_profile="testworld", verification_token=NOVACHAT_VERIFY_TOKEN)
    Endpoint.objects.create(client=client, kind="homepage", url="https://novachat.lrtest/")
    sprint = Sprint.start(client=client, created_by=cast.alice, status=Sprint.ACTIVE, title="Launch")
    return client, sprint


def ran_the_probe(finding) -> bool:
    """The load probe ran: a verdict on a fast test-world page, or "inconclusive" when this machine was too busy
    to keep the schedule (the probe's honest answer under load; other suites share this machine)."""
    return finding.status in ("pass", "warn") or (finding.status == "error" and finding.evidence.get("inconclusive"))


def run_active_url(sprint):
    return reverse("checks:run_active_for_sprint", kwargs={"sprint_id": sprint.pk})


def test_the_demo_loader_and_the_test_world_share_novachats_token():
    from apps.core.management.commands.demo import CLIENTS
    from apps.core.management.commands.demo import NOVACHAT_VERIFY_TOKEN as loader_token

    assert loader_token == NOVACHAT_VERIFY_TOKEN
    assert CLIENTS[0]["domain"] == "novachat.lrtest" and CLIENTS[0]["verification_token"] == loader_token


def test_an_unverified_client_gets_a_clear_refusal_and_nothing_is_queued(cast, login, novachat):
    client, sprint = novachat
    response = login(cast.bob).post(run_active_url(sprint), follow=True)
    page = response.content.decode()
    assert "Active checks not started" in page and "novachat.lrtest is not verified" in page
    assert not ScanRun.objects.exists()
    with pytest.raises(pipeline.OwnershipNotVerified):
        pipeline.start_scan(client=client, sprint=sprint, active=True)
    assert not ScanRun.objects.exists()


def test_a_verified_client_runs_the_load_probe_against_the_test_world(cast, novachat):
    client, sprint = novachat
    assert client.verify_ownership().verified
    scan = pipeline.run_scan_inline(client=client, sprint=sprint, requested_by=cast.bob, active=True,
                                    only=["perf.latency"])
    finding = scan.findings.get(check_id="perf.latency")
    assert ran_the_probe(finding), finding.summary
    assert finding.evidence["planned_rate"] == 10 and finding.evidence["duration_s"] == 1
    assert scan.options["active"] is True
    assert scan.target["options"]["ownership_token"] == NOVACHAT_VERIFY_TOKEN
    assert scan.target["options"]["ai_canaries"] == SprintCanaries.for_sprint(sprint).tokens()
    assert "refused" not in finding.evidence
    assert sprint.activity.filter(text__startswith="started an active scan").exists()


def test_the_runner_refuses_when_the_proof_is_gone_since_verify_now(cast, novachat):
    client, sprint = novachat
    client.verify_ownership()
    # The record changed after "Verify now": the database still says verified, the run itself checks again.
    Client.objects.filter(pk=client.pk).update(verification_token="rotated-token-0123456789abcdef")
    client.refresh_from_db()
    scan = pipeline.run_scan_inline(client=client, sprint=sprint, active=True, only=["perf.latency"])
    finding = scan.findings.get(check_id="perf.latency")
    assert finding.status == "skipped" and finding.evidence["refused"] == "ownership_not_verified"


def test_a_passive_scan_plans_no_active_checks(cast, novachat):
    client, sprint = novachat
    client.verify_ownership()
    passive = pipeline.start_scan(client=client, sprint=sprint, publish=False)
    active = pipeline.start_scan(client=client, sprint=sprint, publish=False, active=True)
    assert "perf" not in set(passive.parts.values_list("family", flat=True))
    assert {"perf", "ai"} <= set(active.parts.values_list("family", flat=True))
    assert "ownership_token" not in passive.target["options"]


def test_the_button_queues_an_active_scan_for_a_verified_client(cast, login, novachat):
    client, sprint = novachat
    client.verify_ownership()
    response = login(cast.bob).post(run_active_url(sprint))
    scan = ScanRun.objects.get(sprint=sprint)
    assert response.status_code == 302 and response["Location"] == reverse("checks:detail",
                                                                          kwargs={"scanrun_id": scan.pk})
    assert scan.options["active"] is True and scan.parts.filter(family="perf").exists()
    assert "Active scan of novachat.lrtest" in login(cast.bob).get(response["Location"]).content.decode()


def test_founders_and_outsiders_cannot_run_active_checks(cast, login):
    cast.nova.ownership_verified_at = cast.nova.created_at
    cast.nova.save()
    url = run_active_url(cast.nova_sprint)
    for user in (cast.fiona, cast.charlie):
        assert login(user).post(url).status_code == 404
        assert login(user).get(url).status_code == 404
    assert login(cast.bob).get(url).status_code == 405
    assert not ScanRun.objects.exists()


def test_the_sprint_page_shows_the_active_panel_and_canaries_to_consultants_only(cast, login):
    page = login(cast.bob).get(reverse("sprints:detail", kwargs={"sprint_id": cast.nova_sprint.pk})).content.decode()
    canaries = SprintCanaries.objects.get(sprint=cast.nova_sprint)
    assert "Run active checks" in page and 'disabled aria-disabled="true"' in page  # not verified yet
    assert canaries.system in page and canaries.user_data in page and "system prompt" in page
    again = login(cast.bob).get(reverse("sprints:detail", kwargs={"sprint_id": cast.nova_sprint.pk}))
    assert canaries.system in again.content.decode()  # stable within the sprint
    founder = login(cast.fiona).get(reverse("sprints:detail", kwargs={"sprint_id": cast.nova_sprint.pk}))
    assert "Run active checks" not in founder.content.decode() and canaries.system not in founder.content.decode()
    cast.nova.ownership_verified_at = cast.nova.created_at
    cast.nova.ownership_method = "dns_txt"
    cast.nova.save()
    verified = login(cast.bob).get(reverse("sprints:detail", kwargs={"sprint_id": cast.nova_sprint.pk}))
    assert 'disabled aria-disabled="true"' not in verified.content.decode()


def test_canaries_differ_between_sprints(cast):
    assert SprintCanaries.for_sprint(cast.nova_sprint).system != SprintCanaries.for_sprint(cast.orbit_sprint).system


@pytest.mark.parametrize("url, template, expected", [
    ("https://nova.example/api/chat", '{"message": "{prompt}"}', {"format": "json", "body": '{"message": "{prompt}"}'}),
    ("https://nova.example/v1/chat/completions", '{"model": "gpt-x", "messages": [{"role": "user", '
     '"content": "{prompt}"}]}', {"format": "openai", "model": "gpt-x"}),
    ("https://nova.example/bot", '{"messages": [{"role": "user", "content": "{prompt}"}]}', {"format": "openai"}),
    ("https://nova.example/v1/chat/completions/", "", {"format": "openai"}),
])
def test_chat_endpoint_formats(url, template, expected):
    assert pipeline.chat_endpoint_options(url, template) == expected


def test_chat_endpoints_reach_the_target_with_their_request_template(cast):
    Endpoint.objects.create(client=cast.nova, kind="chat", url="https://nova.example/api/chat",
                            request_template='{"message": "{prompt}"}')
    target = pipeline.target_for_client(cast.nova, active=True, sprint=cast.nova_sprint)
    assert target.endpoints["chat"] == ["https://nova.example/api/chat"]
    assert target.options["chat_endpoints"] == {
        "https://nova.example/api/chat": {"format": "json", "body": '{"message": "{prompt}"}'}}
    assert target.options["rate"] > 0 and target.options["ownership_token"] == cast.nova.verification_token


def test_the_demo_verifies_novachat_against_the_test_world(world_state):
    from django.core.management import call_command

    from apps.core.management.commands.demo import Command

    call_command("demo", "--no-scan")
    Command().verify_demo_clients()
    nova, orbit = Client.objects.get(name="NovaChat"), Client.objects.get(name="Orbit Tutor")
    assert nova.ownership_verified and nova.ownership_method == "dns_txt"
    assert not orbit.ownership_verified and orbit.ownership_checked_at is None


@pytest.mark.worker
def test_a_worker_runs_the_active_part_of_a_verified_clients_scan(cast, transactional_db, world_state):
    from tests.worker import WorkerProcess, wait_for

    client = Client.objects.create(workspace=cast.acme, name="NovaChat", domain="novachat.lrtest",
                                   network_profile="testworld", verification_token=NOVACHAT_VERIFY_TOKEN)
    client.verify_ownership()
    worker = WorkerProcess(queues="scans", extra_env={"LAUNCHREADY_TESTWORLD_STATE": str(world_state)}).start()
    try:
        scan = pipeline.start_scan(client=client, active=True, only=["perf.latency"])
        done = wait_for(lambda: ScanRun.objects.filter(pk=scan.pk, state=ScanRun.DONE).first(), timeout=60,
                        message=f"active scan to finish\n{worker.log()}")
    finally:
        worker.stop()
    finding = done.findings.get(check_id="perf.latency")
    assert ran_the_probe(finding) and finding.evidence["planned_rate"] == 10, finding.summary


def test_our_own_system_message_goes_only_where_the_founder_allowed_it(cast, novachat):
    client, sprint = novachat
    assert "chat_system_message" not in pipeline.target_for_client(client, active=True, sprint=sprint).options
    client.ai_may_supply_system_message = True
    client.save()
    options = pipeline.target_for_client(client, active=True, sprint=sprint).options
    assert options["chat_system_message"] is True and options["ai_canaries"]
    assert "chat_system_message" not in pipeline.target_for_client(client).options  # passive scans never talk to it
