"""Bad input and abuse: tokens of other clients, unknown and revoked tokens, malformed bodies, rate limit, retries."""

import time
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.checks.models import Finding, ScanRun
from apps.deploys.models import Deploy, DeployToken, hash_token
from tests.faults import cache_down

DEPLOYS = "/api/v1/deploys"


def pending_deploy(client, sprint=None, version="v1"):
    return Deploy.objects.create(client=client, sprint=sprint, environment="production", version=version)


@pytest.mark.django_db
def test_a_token_of_client_a_cannot_touch_client_b(cast, orbit_token, nova_token, api):
    nova_deploy = pending_deploy(cast.nova)
    assert api.get(f"{DEPLOYS}/{nova_deploy.pk}", orbit_token).status_code == 404
    assert api.post(f"{DEPLOYS}/{nova_deploy.pk}/rollback", {"version": "v0"}, orbit_token).status_code == 404
    assert api.get(f"/api/v1/clients/{cast.nova.pk}/readiness", orbit_token).status_code == 404
    # other client's object and a nonexistent one answer the same
    unknown = api.get(f"{DEPLOYS}/{uuid.uuid4()}", orbit_token)
    assert unknown.status_code == 404
    assert unknown.json() == api.get(f"{DEPLOYS}/{nova_deploy.pk}", orbit_token).json()
    assert api.get(f"{DEPLOYS}/{nova_deploy.pk}", nova_token).status_code == 200
    assert not Deploy.objects.filter(kind="rollback").exists()


@pytest.mark.django_db
def test_unknown_revoked_and_missing_tokens_look_the_same(cast, orbit_token, api):
    token = DeployToken.objects.get(token_hash=hash_token(orbit_token))
    token.revoke(cast.alice)
    body = {"environment": "production", "version": "v1"}
    revoked = api.post(DEPLOYS, body, orbit_token)
    unknown = api.post(DEPLOYS, body, "lrdt_" + "x" * 43)
    garbage = api.post(DEPLOYS, body, "not-a-token")
    assert revoked.status_code == unknown.status_code == garbage.status_code == 401
    assert revoked.json() == unknown.json() == garbage.json()
    assert revoked["WWW-Authenticate"].startswith("Bearer")
    assert api.post(DEPLOYS, body).status_code == 401  # no token at all
    assert not Deploy.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("body, field", [
    ({"version": "v1"}, "environment"),
    ({"environment": "prod", "version": "v1"}, "environment"),
    ({"environment": "production"}, "version"),
    ({"environment": "production", "version": "x" * 121}, "version"),
    ({"environment": "production", "version": "v1", "changelog_url": "javascript:alert(1)"}, "changelog_url"),
    ({"environment": "production", "version": "v1", "wait": 26}, "wait"),
    ({"environment": "production", "version": "v1", "wait": "soon"}, "wait"),
    ({"environment": "production", "version": ["v1"]}, "version"),
    ({"environment": "staging", "version": "v1"}, "environment"),  # a production token reports production only
])
def test_malformed_bodies_get_field_errors(cast, orbit_token, api, body, field):
    response = api.post(DEPLOYS, body, orbit_token)
    assert response.status_code == 400
    assert field in response.json()
    assert not Deploy.objects.exists()


@pytest.mark.django_db
def test_bodies_that_are_not_json_objects_are_400(cast, orbit_token, client):
    for raw in ("{not json", "[]", '"text"', "null", "\x00\xff"):
        response = client.post(DEPLOYS, raw, content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {orbit_token}")
        assert response.status_code == 400, raw
    deploy = pending_deploy(cast.orbit)
    response = client.post(f"{DEPLOYS}/{deploy.pk}/rollback", "{", content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {orbit_token}")
    assert response.status_code == 400
    assert api_rollback_field_error(client, deploy, orbit_token) == ["This field is required."]


def api_rollback_field_error(client, deploy, token):
    return client.post(f"{DEPLOYS}/{deploy.pk}/rollback", {}, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}").json()["version"]


@pytest.mark.django_db
def test_a_retried_call_with_the_same_idempotency_key_records_one_deploy(cast, orbit_token, api, world_state,
                                                                         django_capture_on_commit_callbacks):
    body = {"environment": "production", "version": "v9"}
    with django_capture_on_commit_callbacks(execute=False):
        first = api.post(DEPLOYS, body, orbit_token, HTTP_IDEMPOTENCY_KEY="run-42-1")
        again = api.post(DEPLOYS, body, orbit_token, HTTP_IDEMPOTENCY_KEY="run-42-1")
        other = api.post(DEPLOYS, body, orbit_token, HTTP_IDEMPOTENCY_KEY="run-43-1")
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert first.json()["id"] == again.json()["id"] != other.json()["id"]
    assert Deploy.objects.count() == 2
    assert ScanRun.objects.count() == 2  # the retry started no second smoke test
    too_long = api.post(DEPLOYS, body, orbit_token, HTTP_IDEMPOTENCY_KEY="k" * 121)
    assert too_long.status_code == 400 and "Idempotency-Key" in too_long.json()


@pytest.mark.django_db
def test_an_idempotency_key_sent_again_for_another_deploy_is_refused_not_answered_with_the_first(
        cast, orbit_token, api, world_state, django_capture_on_commit_callbacks):
    # One key per workflow run, not per job: the release job's deploy of v10 (or the rollback step) must not be
    # answered with the build job's deploy of v9 and its verdict — nothing recorded, no smoke test, CI green.
    with django_capture_on_commit_callbacks(execute=False):
        first = api.post(DEPLOYS, {"environment": "production", "version": "v9"}, orbit_token,
                         HTTP_IDEMPOTENCY_KEY="run-7-1")
        other = api.post(DEPLOYS, {"environment": "production", "version": "v10"}, orbit_token,
                         HTTP_IDEMPOTENCY_KEY="run-7-1")
        rollback = api.post(f"{DEPLOYS}/{first.json()['id']}/rollback", {"version": "v8"}, orbit_token,
                            HTTP_IDEMPOTENCY_KEY="run-7-1")
    assert first.status_code == 201
    for refused in (other, rollback):
        assert refused.status_code == 400, refused.content
        assert "used for another deploy (v9 to production)" in refused.json()["Idempotency-Key"][0]
    assert Deploy.objects.count() == 1 and ScanRun.objects.count() == 1


@pytest.mark.django_db
def test_each_token_has_a_rate_limit(cast, orbit_token, nova_token, api, settings):
    settings.DEPLOY_API_RATE = "3/min"
    deploy = pending_deploy(cast.orbit)
    codes = [api.get(f"{DEPLOYS}/{deploy.pk}", orbit_token).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    nova = pending_deploy(cast.nova)
    assert api.get(f"{DEPLOYS}/{nova.pk}", nova_token).status_code == 200  # another token has its own budget


@pytest.mark.django_db
def test_the_api_keeps_answering_when_the_rate_limit_cache_is_down(cast, orbit_token, api, settings, caplog):
    cache_down(settings)
    deploy = pending_deploy(cast.orbit)
    assert api.get(f"{DEPLOYS}/{deploy.pk}", orbit_token).status_code == 200
    assert "rate limit unavailable" in caplog.text


@pytest.mark.django_db
def test_session_outsiders_get_404_and_members_see_deploys(cast, login):
    deploy = pending_deploy(cast.orbit, cast.orbit_sprint)
    for outsider in (cast.charlie, cast.fiona):
        browser = login(outsider)
        assert browser.get(f"{DEPLOYS}/{deploy.pk}").status_code == 404
        assert browser.post(f"{DEPLOYS}/{deploy.pk}/rollback", {"version": "v0"}).status_code == 404
        assert browser.get(f"/api/v1/clients/{cast.orbit.pk}/readiness").status_code == 404
        assert browser.post(f"/api/v1/clients/{cast.orbit.pk}/readiness").status_code == 404
    assert login(cast.bob).get(f"{DEPLOYS}/{deploy.pk}").json()["verdict"] == "pending"
    assert login(cast.bob).post(DEPLOYS, {"environment": "production", "version": "v1"}).status_code == 401


@pytest.mark.django_db
def test_readiness_reports_the_latest_full_scan(cast, orbit_token, api, login):
    url = f"/api/v1/clients/{cast.orbit.pk}/readiness"
    assert api.get(url, orbit_token).json() == {
        "client": str(cast.orbit.pk), "scan": None, "finished_at": None, "score": None, "grade": "",
        "decision": "", "go": False, "blockers": [], "findings_url": None}
    scan = ScanRun.objects.create(client=cast.orbit, sprint=cast.orbit_sprint, profile="internet",
                                  domain=cast.orbit.domain, state=ScanRun.DONE, score=54, grade="D",
                                  decision="no-go", blockers=1)
    ScanRun.objects.filter(pk=scan.pk).update(finished_at=scan.created_at)
    Finding.objects.create(scan=scan, check_id="deploy.secrets_in_repo", target="orbit.example", status="fail",
                           severity="blocker", summary="An AWS key is in the repository history.")
    Finding.objects.create(scan=scan, check_id="http.hsts", target="orbit.example", status="warn",
                           severity="medium", summary="HSTS max-age is short.")
    answer = api.get(url, orbit_token).json()
    assert (answer["score"], answer["grade"], answer["decision"], answer["go"]) == (54, "D", "no-go", False)
    assert answer["blockers"] == [{"check": "deploy.secrets_in_repo", "target": "orbit.example",
                                   "reason": "An AWS key is in the repository history."}]
    assert answer["findings_url"].endswith(f"/scans/{scan.pk}/")
    assert login(cast.alice).get(url).json()["decision"] == "no-go"  # session auth works too


@pytest.mark.django_db
def test_wait_may_come_from_the_query_string_and_is_bounded(cast, orbit_token, api):
    response = api.post(f"{DEPLOYS}?wait=26", {"environment": "production", "version": "v1"}, orbit_token)
    assert response.status_code == 400 and "wait" in response.json()  # over 25 s would outlive the web worker
    response = api.post(f"{DEPLOYS}?wait=-1", {"environment": "production", "version": "v1"}, orbit_token)
    assert response.status_code == 400 and "wait" in response.json()


@pytest.mark.django_db
def test_wait_is_a_bound_an_unfinished_smoke_answers_pending_with_a_poll_url(cast, orbit_token, api, world_state):
    # No worker takes the scan here (nothing is even published inside the test's transaction): the answer must come
    # back after `wait` seconds, pending, instead of holding the request until the scan ends.
    started = time.monotonic()
    answer = api.post(f"{DEPLOYS}?wait=1", {"environment": "production", "version": "v1"}, orbit_token).json()
    assert 1 <= time.monotonic() - started < 10
    assert answer["verdict"] == "pending" and answer["passed"] is None
    assert answer["poll_url"].endswith(f"/api/v1/deploys/{answer['id']}")
    assert Deploy.objects.get(pk=answer["id"]).scan.state == ScanRun.QUEUED


@pytest.mark.django_db
def test_a_consultant_may_record_a_rollback_by_hand_a_founder_may_not(cast, login, world_state,
                                                                     django_capture_on_commit_callbacks):
    nova_deploy = pending_deploy(cast.nova, cast.nova_sprint)
    url = f"{DEPLOYS}/{nova_deploy.pk}/rollback"
    assert login(cast.fiona).post(url, {"version": "v0"}, content_type="application/json").status_code == 404
    with django_capture_on_commit_callbacks(execute=False):
        response = login(cast.bob).post(url, {"version": "v0"}, content_type="application/json")
    assert response.status_code == 201
    rollback = Deploy.objects.get(pk=response.json()["id"])
    assert (rollback.kind, rollback.requested_by, rollback.performed_by) == ("rollback", cast.bob, cast.bob.email)


@pytest.mark.django_db
def test_a_staging_token_cannot_roll_back_production(cast, api):
    staging = DeployToken.issue(client=cast.orbit, environment="staging")[1]
    deploy = pending_deploy(cast.orbit)
    response = api.post(f"{DEPLOYS}/{deploy.pk}/rollback", {"version": "v0"}, staging)
    assert response.status_code == 400 and "environment" in response.json()
    assert not Deploy.objects.filter(kind="rollback").exists()


@pytest.mark.django_db
def test_a_retry_after_a_call_that_failed_before_its_smoke_test_starts_the_smoke_test(
        cast, orbit_token, api, world_state, settings, tmp_path, django_capture_on_commit_callbacks):
    # The first call records the deploy, then fails to start its scan (here: the client's network profile cannot
    # be read). The CI retry with the same key got the pending deploy back and nothing ever concluded it.
    body = {"environment": "production", "version": "v11"}
    cast.orbit.network_profile = "testworld"
    cast.orbit.save(update_fields=["network_profile"])
    settings.TESTWORLD_STATE_FILE = tmp_path / "missing.json"
    with pytest.raises(ImproperlyConfigured):
        api.post(DEPLOYS, body, orbit_token, HTTP_IDEMPOTENCY_KEY="run-9-1-deploy")
    deploy = Deploy.objects.get()
    assert deploy.scan_id is None and deploy.verdict == Deploy.PENDING
    settings.TESTWORLD_STATE_FILE = world_state  # fixed; CI retries
    with django_capture_on_commit_callbacks(execute=False):
        retry = api.post(DEPLOYS, body, orbit_token, HTTP_IDEMPOTENCY_KEY="run-9-1-deploy")
        again = api.post(DEPLOYS, body, orbit_token, HTTP_IDEMPOTENCY_KEY="run-9-1-deploy")
    assert (retry.status_code, again.status_code) == (200, 200)
    deploy.refresh_from_db()
    assert deploy.scan_id is not None and ScanRun.objects.count() == 1  # started once, by the first retry


@pytest.mark.django_db
def test_polling_a_deploy_logs_the_first_read_not_every_poll(cast, orbit_token, api):
    from datetime import timedelta

    from django.utils import timezone

    from apps.sprints.models import ActivityEntry

    deploy = pending_deploy(cast.orbit)
    url = f"{DEPLOYS}/{deploy.pk}"

    def calls():
        return list(ActivityEntry.objects.filter(client=cast.orbit, text__startswith="called ")
                    .order_by("created_at").values_list("text", flat=True))

    for _ in range(5):  # CI polling for the verdict
        assert api.get(url, orbit_token).status_code == 200
    assert calls() == [f"called GET {url} with deploy token {DeployToken.objects.get().token_hint}… (production)"]
    # A write is always logged; a read after an hour's quiet is logged again.
    api.post(f"{url}/rollback", {"version": "v0"}, orbit_token)
    assert len(calls()) == 2 and calls()[1].startswith(f"called POST {url}/rollback")
    DeployToken.objects.update(last_used_at=timezone.now() - timedelta(hours=2))
    api.get(url, orbit_token)
    assert len(calls()) == 3 and calls()[2].startswith("called GET")


@pytest.mark.django_db
def test_a_staging_deploy_without_a_staging_url_is_refused_not_run_on_production(cast, api):
    staging = DeployToken.issue(client=cast.orbit, environment="staging")[1]
    response = api.post(DEPLOYS, {"environment": "staging", "version": "rc1"}, staging)
    assert response.status_code == 400
    assert "no staging URL" in response.json()["environment"][0]
    assert not Deploy.objects.exists() and not ScanRun.objects.exists()


def test_the_staging_target_moves_the_clients_own_endpoints_and_keeps_a_vendors():
    from apps.checks.engine import Target
    from apps.deploys.gate import on_staging

    production = Target.build("example.com", hosts=["www", "app"], endpoints=[
        ("homepage", "https://example.com/"), ("login", "https://app.example.com/login?next=/"),
        ("health", "https://example.com/api/health"), ("chat", "https://app.example.com/api/chat"),
        ("chat", "https://llm-vendor.example.net/v1/chat/completions")],
        options={"chat_endpoints": {"https://app.example.com/api/chat": {"format": "json"},
                                    "https://llm-vendor.example.net/v1/chat/completions": {"format": "openai"}}})
    staging = on_staging(production, "https://stg.example-preview.app:8443/")
    assert staging.domain == "stg.example-preview.app" and staging.hostnames == ["stg.example-preview.app"]
    assert staging.endpoints == {
        "homepage": ["https://stg.example-preview.app:8443/"],
        "login": ["https://stg.example-preview.app:8443/login?next=/"],
        "health": ["https://stg.example-preview.app:8443/api/health"],
        "chat": ["https://stg.example-preview.app:8443/api/chat", "https://llm-vendor.example.net/v1/chat/completions"]}
    assert staging.options["chat_endpoints"] == {
        "https://stg.example-preview.app:8443/api/chat": {"format": "json"},
        "https://llm-vendor.example.net/v1/chat/completions": {"format": "openai"}}
    assert production.endpoints["homepage"] == ["https://example.com/"]  # the production Target is left as it was
