"""Deploy tokens on the client's page: create (shown once, stored hashed), list, revoke; consultants only."""

import html
import json
import re

import pytest
from django.urls import reverse

from apps.deploys.gate import MAX_WAIT_S
from apps.deploys.models import TOKEN_PREFIX, DeployToken, hash_token
from apps.deploys.serializers import DeployRequest
from apps.sprints.models import ActivityEntry
from tests.test_form_sweep import MALFORMED


def create_url(client):
    return reverse("deploys:token_create", kwargs={"client_id": client.pk})


@pytest.mark.django_db
def test_a_token_is_shown_once_and_stored_hashed(cast, login):
    browser = login(cast.bob)
    assert browser.get(create_url(cast.orbit)).status_code == 200
    response = browser.post(create_url(cast.orbit), {"environment": "staging", "label": "GitHub Actions"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    raw = response.context["raw"]
    assert raw.startswith(TOKEN_PREFIX) and len(raw) > 40 and raw in response.content.decode()
    assert "staging URL, which is not set yet" in response.content.decode()  # reports would be refused: say so
    token = DeployToken.objects.get()
    assert token.token_hash == hash_token(raw) and raw not in (token.token_hash, token.token_hint)
    assert (token.client, token.environment, token.label, token.created_by) == (cast.orbit, "staging",
                                                                                 "GitHub Actions", cast.bob)
    page = browser.get(reverse("clients:detail", kwargs={"client_id": cast.orbit.pk})).content.decode()
    assert token.token_hint in page and raw not in page  # listed by its hint, never shown again
    assert "GitHub Actions" in page and "secrets.LAUNCHREADY_TOKEN" in page and "CI_COMMIT_SHA" in page
    assert "http://127.0.0.1:8000/api/v1/deploys" in page
    assert f"/api/v1/clients/{cast.orbit.pk}/readiness" in page
    assert ActivityEntry.objects.filter(client=cast.orbit, text__startswith="created deploy token").exists()


@pytest.mark.django_db
def test_revoking_stops_the_token_and_is_logged_once(cast, login, api):
    token, raw = DeployToken.issue(client=cast.orbit, environment="production")
    browser = login(cast.alice)
    url = reverse("deploys:token_revoke", kwargs={"deploytoken_id": token.pk})
    assert browser.get(url).status_code == 405
    response = browser.post(url)
    assert response.status_code == 302 and response.url.endswith("#deploys")
    browser.post(url)
    token.refresh_from_db()
    assert token.is_revoked and token.revoked_by == cast.alice
    assert ActivityEntry.objects.filter(text__startswith="revoked deploy token").count() == 1
    assert api.get(f"/api/v1/clients/{cast.orbit.pk}/readiness", raw).status_code == 401
    assert "revoked" in browser.get(reverse("clients:detail", kwargs={"client_id": cast.orbit.pk})).content.decode()


@pytest.mark.django_db
def test_it_checks_ownership(cast, login):
    token, _raw = DeployToken.issue(client=cast.orbit, environment="production")
    revoke = reverse("deploys:token_revoke", kwargs={"deploytoken_id": token.pk})
    for outsider in (cast.charlie, cast.fiona):
        browser = login(outsider)
        assert browser.get(create_url(cast.orbit)).status_code == 404
        assert browser.post(create_url(cast.orbit), {"environment": "production"}).status_code == 404
        assert browser.post(revoke).status_code == 404
    # a founder sees their own client's page but neither the token screens nor the deploy section
    fiona = login(cast.fiona)
    assert fiona.get(create_url(cast.nova)).status_code == 404
    page = fiona.get(reverse("clients:detail", kwargs={"client_id": cast.nova.pk})).content.decode()
    assert 'id="deploys"' not in page
    token.refresh_from_db()
    assert not token.is_revoked and DeployToken.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_values_get_field_errors(cast, login, kind):
    browser = login(cast.alice)
    value = MALFORMED[kind]
    response = browser.post(create_url(cast.orbit), {"environment": value, "label": value})
    assert response.status_code == 200
    assert response.context["form"].errors.get("environment")
    assert not DeployToken.objects.exists()
    long_label = browser.post(create_url(cast.orbit), {"environment": "production", "label": "x" * 81})
    assert "label" in long_label.context["form"].errors
    nul = browser.post(create_url(cast.orbit), {"environment": "production", "label": "a\x00b"})
    assert "label" in nul.context["form"].errors
    script = browser.post(create_url(cast.orbit), {"environment": "production", "label": MALFORMED["html"]})
    assert "<script>alert" not in script.content.decode()  # escaped on the shown-once page


@pytest.mark.django_db
def test_the_curl_snippet_posts_a_body_the_api_accepts(cast, login, client, django_capture_on_commit_callbacks):
    page = login(cast.bob).get(reverse("clients:detail", kwargs={"client_id": cast.orbit.pk})).content.decode()
    bodies = re.findall(r"-d '(\{\"environment\": \"production\", \"version\": \"v1\.2\.3\"[^']*)'",
                        html.unescape(page))
    assert len(bodies) == 1, bodies
    body = json.loads(bodies[0])
    assert body["wait"] == MAX_WAIT_S and DeployRequest(data=body).is_valid()  # the wait it shows is one we accept
    raw = DeployToken.issue(client=cast.orbit, environment="production")[1]
    with django_capture_on_commit_callbacks(execute=False):  # nothing runs the scan here: do not hold the answer
        answer = client.post("/api/v1/deploys", body | {"wait": 0}, content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert answer.status_code == 201, answer.content
