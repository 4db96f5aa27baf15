import pytest
from django.urls import reverse

from apps.checks.history import diff_scans
from apps.checks.models import Finding, ScanRun


def make_scan(client, sprint=None, score=80, findings=(), state=ScanRun.DONE):
    scan = ScanRun.objects.create(client=client, sprint=sprint, profile="internet", domain=client.domain,
                                  state=state, score=score, grade="B", decision="go", parts_total=2,
                                  parts_done=2 if state == ScanRun.DONE else 1)
    for check_id, target, status in findings:
        Finding.objects.create(scan=scan, check_id=check_id, target=target, status=status, severity="high",
                               summary=f"{check_id} {status}", remediation="Fix it.")
    return scan


@pytest.mark.django_db
def test_run_scan_creates_a_queued_scan_with_parts(cast, login, settings, tmp_path):
    settings.LAUNCHREADY_NETWORK = {"nameservers": ["127.0.0.1:9"], "ca_bundle": "", "port_map": "",
                                    "allowed_networks": []}
    response = login(cast.alice).post(reverse("checks:run_for_sprint", kwargs={"sprint_id": cast.nova_sprint.pk}))
    scan = ScanRun.objects.get(sprint=cast.nova_sprint)
    assert response.status_code == 302 and response["Location"] == reverse("checks:detail",
                                                                          kwargs={"scanrun_id": scan.pk})
    assert scan.state == ScanRun.QUEUED and scan.parts_total == scan.parts.count() > 0
    assert scan.requested_by == cast.alice and scan.domain == "nova.example"
    assert cast.nova_sprint.activity.filter(text__startswith="started a scan").exists()


@pytest.mark.django_db
def test_run_scan_with_an_unconfigured_profile_says_why(cast, login, settings, tmp_path):
    cast.nova.network_profile = "testworld"
    cast.nova.save()
    settings.TESTWORLD_STATE_FILE = tmp_path / "missing.json"
    response = login(cast.alice).post(reverse("checks:run_for_sprint", kwargs={"sprint_id": cast.nova_sprint.pk}),
                                      follow=True)
    assert "The scan could not start" in response.content.decode()
    assert not ScanRun.objects.exists()


@pytest.mark.django_db
def test_founders_and_outsiders_cannot_run_scans(cast, login):
    url = reverse("checks:run_for_sprint", kwargs={"sprint_id": cast.nova_sprint.pk})
    assert login(cast.fiona).post(url).status_code == 404
    assert login(cast.charlie).post(url).status_code == 404
    assert not ScanRun.objects.exists()


@pytest.mark.django_db
def test_scan_page_shows_risks_and_findings_to_the_founder(cast, login):
    scan = make_scan(cast.nova, cast.nova_sprint, findings=[("http.hsts", "nova.example", "fail"),
                                                             ("tls.certificate", "nova.example", "pass")])
    page = login(cast.fiona).get(reverse("checks:detail", kwargs={"scanrun_id": scan.pk})).content.decode()
    assert "Risk list" in page and "http.hsts fail" in page and "tls.certificate" in page
    assert login(cast.charlie).get(reverse("checks:detail", kwargs={"scanrun_id": scan.pk})).status_code == 404


@pytest.mark.django_db
def test_progress_panel_polls_while_running_and_stops_when_done(cast, login):
    running = make_scan(cast.nova, cast.nova_sprint, state=ScanRun.RUNNING,
                        findings=[("dns.records", "nova.example", "pass")])
    html = login(cast.alice).get(reverse("checks:progress", kwargs={"scanrun_id": running.pk})).content.decode()
    assert 'hx-trigger="every 500ms"' in html and "1 of 2 parts" in html and "dns.records" in html
    done = make_scan(cast.nova, cast.nova_sprint)
    html = login(cast.alice).get(reverse("checks:progress", kwargs={"scanrun_id": done.pk})).content.decode()
    assert "hx-trigger" not in html


@pytest.mark.django_db
def test_sprint_page_shows_the_latest_scan_and_a_run_button_for_consultants(cast, login):
    make_scan(cast.nova, cast.nova_sprint, score=73)
    page = login(cast.alice).get(reverse("sprints:detail", kwargs={"sprint_id": cast.nova_sprint.pk})).content.decode()
    assert "Run scan" in page and "Score <strong>73</strong>" in page
    founder_page = login(cast.fiona).get(reverse("sprints:detail", kwargs={"sprint_id": cast.nova_sprint.pk}))
    assert "Run scan" not in founder_page.content.decode()


@pytest.mark.django_db
def test_dashboard_shows_the_latest_score_without_extra_queries(cast, login, django_assert_max_num_queries):
    make_scan(cast.nova, cast.nova_sprint, score=64)
    client = login(cast.alice)
    client.get(reverse("sprints:dashboard"))
    with django_assert_max_num_queries(12):
        page = client.get(reverse("sprints:dashboard")).content.decode()
    assert "<strong>64</strong>" in page


@pytest.mark.django_db
def test_dashboard_scores_each_client_by_its_latest_finished_scan(cast, login):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    for score, blockers, age in [(50, 0, 3), (64, 2, 2)]:  # an older and the latest finished scan of Nova
        scan = make_scan(cast.nova, cast.nova_sprint, score=score)
        ScanRun.objects.filter(pk=scan.pk).update(finished_at=now - timedelta(hours=age), blockers=blockers)
    make_scan(cast.nova, cast.nova_sprint, score=None, state=ScanRun.RUNNING)  # the newest, still running
    make_scan(cast.orbit, None, score=91)  # another client's score stays on its own row
    ScanRun.objects.filter(client=cast.orbit).update(finished_at=now - timedelta(minutes=5))
    page = login(cast.bob).get(reverse("sprints:dashboard")).content.decode()
    nova_row = page.split("Nova AI", 1)[1].split("</tr>", 1)[0]
    orbit_row = page.split("Orbit Chat", 1)[1].split("</tr>", 1)[0]
    assert "<strong>64</strong>" in nova_row and "2 blockers" in nova_row and "scanned 2\xa0hours ago" in nova_row
    assert "<strong>91</strong>" in orbit_row and "blocker" not in orbit_row




@pytest.mark.django_db
def test_diff_between_two_scans_names_fixed_new_and_regressed(cast, login):
    old = make_scan(cast.nova, findings=[("http.hsts", "nova.example", "fail"), ("tls.protocols", "nova.example", "pass"),
                                          ("dns.records", "nova.example", "pass")])
    new = make_scan(cast.nova, findings=[("http.hsts", "nova.example", "pass"), ("tls.protocols", "nova.example", "fail"),
                                          ("dns.records", "nova.example", "pass"), ("edge.cdn", "nova.example", "warn")])
    changes = diff_scans(old, new)
    assert [c.check_id for c in changes["fixed"]] == ["http.hsts"]
    assert [c.check_id for c in changes["regressed"]] == ["tls.protocols"]
    assert [c.check_id for c in changes["new"]] == ["edge.cdn"]
    assert [c.check_id for c in changes["unchanged"]] == ["dns.records"]
    page = login(cast.fiona).get(reverse("checks:diff", kwargs={"scanrun_id": new.pk}) + f"?against={old.pk}")
    assert page.status_code == 200 and "Regressed" in page.content.decode()
    other = make_scan(cast.orbit)
    url = reverse("checks:diff", kwargs={"scanrun_id": new.pk})
    assert login(cast.alice).get(url + f"?against={other.pk}").status_code == 404  # another client's scan
    assert login(cast.alice).get(url + "?against=not-a-uuid").status_code == 404


@pytest.mark.django_db
def test_client_scan_history_draws_the_score_trend(cast, login):
    for score in (40, 55, 80):
        make_scan(cast.nova, score=score)
    page = login(cast.alice).get(reverse("checks:client_scans", kwargs={"client_id": cast.nova.pk})).content.decode()
    assert "<svg" in page and "Score trend: latest 80" in page
    assert login(cast.charlie).get(reverse("checks:client_scans", kwargs={"client_id": cast.nova.pk})).status_code == 404
