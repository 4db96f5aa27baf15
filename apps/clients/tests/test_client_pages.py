"""The client list, create, edit and detail pages."""

import pytest
from django.urls import reverse

from apps.clients.models import Client, EmailSetup, EnvVar, Hostname, RunbookStep, VendorAccount
from apps.sprints.models import ActivityEntry
from apps.tenants.models import Membership, Workspace

pytestmark = pytest.mark.django_db


def detail_url(client):
    return reverse("clients:detail", kwargs={"client_id": client.pk})


# --- list -------------------------------------------------------------------------------------------------------
def test_list_shows_the_clients_of_the_users_workspaces(cast, login):
    response = login(cast.bob).get(reverse("clients:list"))
    assert response.status_code == 200
    assert b"Nova AI" in response.content and b"Orbit Chat" in response.content
    assert b"Rival Bot" not in response.content


def test_list_spans_several_workspaces_and_names_them(cast, login):
    Membership.objects.create(user=cast.alice, workspace=cast.other, role="consultant")
    response = login(cast.alice).get(reverse("clients:list"))
    assert b"Rival Bot" in response.content and b"Other Partners" in response.content


def test_founders_are_sent_to_their_portal(cast, login):
    response = login(cast.fiona).get(reverse("clients:list"))
    assert response.status_code == 302 and response.url == reverse("sprints:portal")


def test_list_needs_a_login(client, cast):
    response = client.get(reverse("clients:list"))
    assert response.status_code == 302 and reverse("tenants:login") in response.url


# --- create -----------------------------------------------------------------------------------------------------
def test_create_stores_the_domain_as_punycode_and_logs_it(cast, login):
    response = login(cast.bob).post(reverse("clients:create"), {"name": "Bücher GmbH", "domain": "Bücher.example"})
    created = Client.objects.get(name="Bücher GmbH")
    assert response.status_code == 302 and response.url == detail_url(created)
    assert created.domain == "xn--bcher-kva.example"
    assert created.workspace == cast.acme and created.created_by == cast.bob
    assert EmailSetup.objects.filter(client=created).exists()
    assert ActivityEntry.objects.get(client=created, sprint=None).text.startswith("created client Bücher GmbH")


def test_create_asks_for_a_workspace_only_when_there_are_several(cast, login):
    page = login(cast.bob).get(reverse("clients:create"))
    assert b'name="workspace"' not in page.content
    Membership.objects.create(user=cast.bob, workspace=cast.other, role="consultant")
    page = login(cast.bob).get(reverse("clients:create"))
    assert b'name="workspace"' in page.content
    login(cast.bob).post(reverse("clients:create"),
                         {"workspace": cast.other.pk, "name": "Second", "domain": "second.example"})
    assert Client.objects.get(name="Second").workspace == cast.other


def test_create_refuses_a_workspace_the_user_is_not_in(cast, login):
    Membership.objects.create(user=cast.bob, workspace=Workspace.objects.create(name="Third", slug="third"),
                              role="owner")
    response = login(cast.bob).post(reverse("clients:create"),
                                    {"workspace": cast.other.pk, "name": "Sneaky", "domain": "sneaky.example"})
    assert response.status_code == 200 and "workspace" in response.context["form"].errors
    assert not Client.objects.filter(name="Sneaky").exists()


def test_founders_cannot_create_clients(cast, login):
    assert login(cast.fiona).get(reverse("clients:create")).status_code == 404
    assert login(cast.fiona).post(reverse("clients:create"), {"name": "X", "domain": "x.example"}).status_code == 404
    assert not Client.objects.filter(name="X").exists()


@pytest.mark.parametrize("domain, message", [
    ("https://nova2.example/", "not a URL"),
    ("nova2.example/pricing", "without a path"),
    ("nova2.example:8443", "port"),
    ("192.0.2.10", "IP address"),
    ("[2001:db8::1]", "IP address"),
    ("localhost", "with a dot"),
    ("ops@nova2.example", "email"),
    ("<script>alert(1)</script>.example", "domain"),
    ("a" * 254 + ".example", "at most 253"),
    ("", "required"),
])
def test_create_refuses_malformed_domains(cast, login, domain, message):
    response = login(cast.alice).post(reverse("clients:create"), {"name": "Nova Two", "domain": domain})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["domain"])
    assert b"<script>alert" not in response.content
    assert not Client.objects.filter(name="Nova Two").exists()


def test_create_refuses_an_overlong_name_and_notes(cast, login):
    response = login(cast.alice).post(reverse("clients:create"),
                                      {"name": "N" * 121, "domain": "long.example", "notes": "x" * 10001})
    assert set(response.context["form"].errors) == {"name", "notes"}
    assert not Client.objects.filter(domain="long.example").exists()


# --- edit -------------------------------------------------------------------------------------------------------
def test_edit_changes_the_client_and_logs_the_fields(cast, login):
    url = reverse("clients:edit", kwargs={"client_id": cast.nova.pk})
    form = login(cast.bob).get(url)
    assert form.status_code == 200 and b"nova.example" in form.content
    response = login(cast.bob).post(url, {"name": "Nova Labs", "domain": "nova.example", "notes": "new note"})
    assert response.status_code == 302
    cast.nova.refresh_from_db()
    assert (cast.nova.name, cast.nova.notes) == ("Nova Labs", "new note")
    assert ActivityEntry.objects.filter(client=cast.nova, text="changed client Nova Labs: name, notes").exists()


def test_the_staging_url_is_validated_and_shown(cast, login):
    url = reverse("clients:edit", kwargs={"client_id": cast.nova.pk})
    browser = login(cast.alice)
    for bad, message in [("https://nova.example/", "production domain"), ("ftp://stg.nova.example/", "http"),
                         ("https://user:pw@stg.nova.example/", "user name"), ("javascript:alert(1)", "valid URL"),
                         ("https://192.168.1.1/", "not usable"), ("https://" + "a" * 500 + ".example/", "")]:
        response = browser.post(url, {"name": "Nova AI", "domain": "nova.example", "staging_url": bad})
        assert response.status_code == 200, bad
        assert message in response.context["form"].errors["staging_url"][0], (bad, response.context["form"].errors)
    assert Client.objects.get(pk=cast.nova.pk).staging_url == ""
    response = browser.post(url, {"name": "Nova AI", "domain": "nova.example",
                                  "staging_url": "https://nova-staging.vercel-preview.example/"})
    assert response.status_code == 302
    page = browser.get(reverse("clients:detail", kwargs={"client_id": cast.nova.pk})).content.decode()
    assert "staging <code>https://nova-staging.vercel-preview.example/</code>" in page


def test_changing_the_domain_drops_the_proof_of_ownership(cast, login):
    from django.utils import timezone

    Client.objects.filter(pk=cast.nova.pk).update(ownership_verified_at=timezone.now(), ownership_method="dns_txt")
    url = reverse("clients:edit", kwargs={"client_id": cast.nova.pk})
    assert login(cast.alice).post(url, {"name": "Nova AI", "domain": "nova-ai.example"}).status_code == 302
    client = Client.objects.get(pk=cast.nova.pk)
    assert client.domain == "nova-ai.example" and not client.ownership_verified  # before: "✓ verified", unverified
    assert client.ownership_method == ""


def test_edit_refuses_a_domain_that_would_orphan_hostnames(cast, login):
    Hostname.objects.create(client=cast.nova, name="app.nova.example", role="app")
    url = reverse("clients:edit", kwargs={"client_id": cast.nova.pk})
    response = login(cast.alice).post(url, {"name": "Nova AI", "domain": "nova.test"})
    assert "app.nova.example" in response.context["form"].errors["domain"][0]
    cast.nova.refresh_from_db()
    assert cast.nova.domain == "nova.example"


def test_edit_is_for_consultants_only(cast, login):
    url = reverse("clients:edit", kwargs={"client_id": cast.nova.pk})
    for user in (cast.fiona, cast.charlie):
        assert login(user).get(url).status_code == 404
        assert login(user).post(url, {"name": "Hacked", "domain": "nova.example"}).status_code == 404
    cast.nova.refresh_from_db()
    assert cast.nova.name == "Nova AI"


# --- detail -----------------------------------------------------------------------------------------------------
def fill_inventories(client):
    Hostname.objects.create(client=client, name="xn--bcher-kva.nova.example", role="docs")
    client.endpoints.create(kind="chat", url="https://api.nova.example/chat", method="POST",
                            request_template='{"message": "{prompt}"}')
    EnvVar.objects.create(client=client, name="STRIPE_SECRET_KEY", environments=["staging", "production"],
                          where_stored="Render dashboard", secret=True, rotation_due="2020-01-01")
    VendorAccount.objects.create(client=client, vendor="Render", owner="Fiona", two_factor=True)
    RunbookStep.objects.create(client=client, kind="deploy", position=1, text="Merge to main", command="git push")
    RunbookStep.objects.create(client=client, kind="rollback", position=1, text="Redeploy previous release",
                               last_tested="2026-11-01")
    client.owners.create(area="DNS", person="Fiona", contact="fiona@nova.test")
    setup = client.get_email_setup()
    setup.approved_spf_senders, setup.dkim_selectors = ["_spf.google.com"], ["google"]
    setup.save()


def test_detail_shows_everything_to_consultants(cast, login):
    fill_inventories(cast.nova)
    response = login(cast.bob).get(detail_url(cast.nova))
    assert response.status_code == 200
    html = response.content.decode()
    for expected in ["bücher.nova.example", "https://api.nova.example/chat", "_spf.google.com", "google",
                     "STRIPE_SECRET_KEY", "Render dashboard", "overdue", "Render", "Merge to main", "git push",
                     "Redeploy previous release", "2026-11-01", "never tested", "fiona@nova.test", "private note",
                     cast.nova_sprint.title, reverse("clients:edit", kwargs={"client_id": cast.nova.pk}),
                     reverse("clients:hostname_add", kwargs={"client_id": cast.nova.pk})]:
        assert expected in html, expected


def test_env_var_table_has_a_column_per_environment(cast, login):
    EnvVar.objects.create(client=cast.nova, name="SENTRY_DSN", environments=["production"])
    html = login(cast.bob).get(detail_url(cast.nova)).content.decode()
    assert 'aria-label="present in production"' in html
    assert 'aria-label="absent from development"' in html and 'aria-label="absent from staging"' in html


def test_founders_see_their_client_but_never_the_notes(cast, login):
    fill_inventories(cast.nova)
    response = login(cast.fiona).get(detail_url(cast.nova))
    html = response.content.decode()
    assert response.status_code == 200 and "STRIPE_SECRET_KEY" in html
    assert "private note" not in html
    # Founders get edit controls for env vars and vendor accounts only.
    assert reverse("clients:envvar_add", kwargs={"client_id": cast.nova.pk}) in html
    assert reverse("clients:vendoraccount_add", kwargs={"client_id": cast.nova.pk}) in html
    assert reverse("clients:hostname_add", kwargs={"client_id": cast.nova.pk}) not in html
    assert reverse("clients:edit", kwargs={"client_id": cast.nova.pk}) not in html


def test_consultants_find_the_founder_invitation_page_from_the_client(cast, login):
    """The invite page existed but nothing linked to it (found by the e2e founder journey)."""
    invite = reverse("tenants:client_invite", kwargs={"client_id": cast.nova.pk})
    assert invite in login(cast.bob).get(detail_url(cast.nova)).content.decode()
    assert invite not in login(cast.fiona).get(detail_url(cast.nova)).content.decode()


def test_detail_checks_ownership(cast, login):
    assert login(cast.charlie).get(detail_url(cast.nova)).status_code == 404
    assert login(cast.fiona).get(detail_url(cast.orbit)).status_code == 404
    assert login(cast.alice).get(detail_url(cast.rival)).status_code == 404
    assert login(cast.alice).get(detail_url(cast.orbit)).status_code == 200


def test_detail_links_sprints_when_the_sprint_page_exists(cast, login):
    from django.urls import NoReverseMatch

    html = login(cast.alice).get(detail_url(cast.nova)).content.decode()
    assert cast.nova_sprint.title in html
    try:
        sprint_url = reverse("sprints:detail", kwargs={"sprint_id": cast.nova_sprint.pk})
    except NoReverseMatch:
        pytest.skip("sprints:detail arrives with the sprints app")
    assert sprint_url in html


def test_detail_creates_a_missing_email_setup(cast, login):
    EmailSetup.objects.filter(client=cast.orbit).delete()
    assert login(cast.alice).get(detail_url(cast.orbit)).status_code == 200
    assert EmailSetup.objects.filter(client=cast.orbit).exists()
