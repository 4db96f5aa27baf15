import pytest
from django.urls import reverse

from .conftest import MALFORMED

ACCOUNT = reverse("tenants:account")


@pytest.mark.django_db
def test_it_checks_ownership(client):
    response = client.get(ACCOUNT)
    assert response.status_code == 302 and response.url.startswith(reverse("tenants:login"))


@pytest.mark.django_db
def test_owner_sees_workspaces_with_settings_links_and_every_client(cast, login):
    page = login(cast.alice).get(ACCOUNT)
    html = page.content.decode()
    assert page.status_code == 200
    assert reverse("tenants:password_change") in html and reverse("tenants:email_change") in html
    assert reverse("tenants:workspace_settings", kwargs={"workspace_id": cast.acme.pk}) in html
    assert [c.name for c, _ in page.context["clients"]] == ["Nova AI", "Orbit Chat"]
    assert "Rival Bot" not in html and "Other Partners" not in html


@pytest.mark.django_db
def test_consultant_sees_no_settings_link(cast, login):
    html = login(cast.bob).get(ACCOUNT).content.decode()
    assert reverse("tenants:members", kwargs={"workspace_id": cast.acme.pk}) in html
    assert reverse("tenants:workspace_settings", kwargs={"workspace_id": cast.acme.pk}) not in html


@pytest.mark.django_db
def test_founder_sees_only_their_client(cast, login):
    page = login(cast.fiona).get(ACCOUNT)
    assert page.context["clients"] == [(cast.nova, "founder")]
    assert list(page.context["memberships"]) == []
    assert "Orbit Chat" not in page.content.decode()


@pytest.mark.django_db
def test_name_can_be_changed(cast, login):
    response = login(cast.fiona).post(ACCOUNT, {"name": "Fiona Fondatrice ✨"})
    assert response.status_code == 302
    cast.fiona.refresh_from_db()
    assert cast.fiona.name == "Fiona Fondatrice ✨"


@pytest.mark.django_db
@pytest.mark.parametrize("label", ["overlong", "nul"])
def test_name_refuses_malformed_values(cast, login, label):
    response = login(cast.fiona).post(ACCOUNT, {"name": MALFORMED[label]})
    assert response.status_code == 200 and "name" in response.context["form"].errors
    cast.fiona.refresh_from_db()
    assert cast.fiona.name == "Fiona Founder"


@pytest.mark.django_db
def test_html_in_the_name_is_escaped(cast, login):
    client = login(cast.fiona)
    client.post(ACCOUNT, {"name": "<script>alert(1)</script>"})
    html = client.get(ACCOUNT).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
