"""The OpenAPI schema is generated, valid, documented, and a property-based fuzzer (schemathesis, in process on the
WSGI app, bounded examples) finds no 5xx in the deploy gate API."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from apps.deploys.models import Deploy, DeployToken

from .conftest import make_site


@pytest.mark.django_db
def test_the_schema_is_valid_openapi_3_and_lists_every_endpoint(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)  # drf-spectacular's bundled OpenAPI 3 JSON schema
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {"/api/v1/deploys", "/api/v1/deploys/{deploy_id}",
                                    "/api/v1/deploys/{deploy_id}/rollback", "/api/v1/clients/{client_id}/readiness"}
    assert schema["components"]["securitySchemes"]["deployToken"]["scheme"] == "bearer"
    report = schema["paths"]["/api/v1/deploys"]["post"]
    assert {"environment", "version", "changelog_url", "wait"} <= set(
        schema["components"]["schemas"]["DeployRequest"]["properties"])
    assert any(p["name"] == "Idempotency-Key" for p in report["parameters"])


@pytest.mark.django_db
def test_the_browsable_reference_page_lists_the_operations(client):
    page = client.get("/api/docs/").content.decode()
    assert "/api/v1/deploys/{deploy_id}/rollback" in page and "Report a deploy and run its smoke test" in page
    assert 'href="/api/schema/"' in page


@pytest.fixture
def fuzz_world(cast, world_state, settings):
    """A token of orbit (served by the test world, no chat so examples stay quick), one of its deploys, and a
    WSGI app that keeps the test's database transaction (as Django's test client does)."""
    settings.DEPLOY_API_RATE = "100000/min"
    settings.DEPLOY_WAIT_CAP_SECONDS = 0.05  # fuzzed waits answer at once (no worker runs the scans here)
    make_site(cast.orbit, "orbittutor.lrtest", hosts=(), login="https://app.orbittutor.lrtest/login",
              health="https://app.orbittutor.lrtest/health", chat_mode=None)
    token, raw = DeployToken.issue(client=cast.orbit, environment="production")
    deploy = Deploy.objects.create(client=cast.orbit, sprint=cast.orbit_sprint, token=token,
                                   environment="production", version="v1")
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield {"token": raw, "deploy_id": str(deploy.pk), "client_id": str(cast.orbit.pk)}
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_the_fuzzer_finds_no_server_errors(fuzz_world):
    from launchready.wsgi import application

    api_schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 4
    seen = []

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            # Real ids of the token's client, so fuzzed bodies reach the code behind the 404 wall.
            for name in ("deploy_id", "client_id"):
                if case.path_parameters and name in case.path_parameters:
                    case.path_parameters[name] = fuzz_world[name]
            response = case.call(headers={"Authorization": f"Bearer {fuzz_world['token']}"})
            seen.append(response.status_code)
            case.validate_response(response, checks=[not_a_server_error])

        fuzz()
    assert not [code for code in seen if code >= 500]
    assert {200, 201, 400} <= set(seen), seen  # the examples reached valid and invalid paths alike
