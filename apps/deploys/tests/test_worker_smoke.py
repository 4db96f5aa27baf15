"""Without `wait`, the smoke scan runs on a real Celery worker and the worker concludes the verdict."""

from urllib.parse import urlsplit

import pytest

from apps.deploys.models import Deploy, DeployToken
from tests.worker import wait_for

from .conftest import make_site


@pytest.mark.worker
def test_a_polled_deploy_is_concluded_by_the_worker(cast, scan_worker, api):
    make_site(cast.orbit, "orbittutor.lrtest", login="https://app.orbittutor.lrtest/login",
              health="https://orbittutor.lrtest/boom")
    raw = DeployToken.issue(client=cast.orbit, environment="production")[1]
    answer = api.post("/api/v1/deploys", {"environment": "production", "version": "v8"}, raw).json()
    assert answer["verdict"] == "pending"
    deploy = wait_for(lambda: Deploy.objects.exclude(verdict="pending").filter(pk=answer["id"]).first(),
                      timeout=60, message=f"the worker to conclude the deploy\n{scan_worker.log()}")
    assert deploy.verdict == "fail"  # concluded in the worker by the scan_finalized signal, before any poll
    polled = api.get(urlsplit(answer["poll_url"]).path, raw).json()
    assert polled["passed"] is False
    assert "The health page answered HTTP 500." in [f["reason"] for f in polled["failing_checks"]]
