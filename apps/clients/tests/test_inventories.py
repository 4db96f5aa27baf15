"""Add/edit/delete of every inventory, who may do it, and the activity log it leaves."""

import uuid

import pytest
from django.urls import get_resolver, reverse

from apps.clients.inventory import INVENTORIES
from apps.clients.models import EmailSetup, Endpoint, EnvVar, Hostname, Owner, RunbookStep, VendorAccount
from apps.sprints.models import ActivityEntry

pytestmark = pytest.mark.django_db

# A valid form post per inventory, the value it should store, and what the activity log says.
VALID = {
    "hostname": ({"name": "App.Nova.Example", "role": "app"}, "name", "app.nova.example",
                 "added hostname app.nova.example"),
    "endpoint": ({"kind": "login", "url": "https://app.nova.example/login", "method": "GET"}, "url",
                 "https://app.nova.example/login", "added login endpoint https://app.nova.example/login"),
    "envvar": ({"name": "DATABASE_URL", "environments": ["staging", "production"], "where_stored": "Render",
                "required": "on", "rotation_due": "2027-01-31"}, "name", "DATABASE_URL",
               "added env var DATABASE_URL"),
    "vendoraccount": ({"vendor": "Cloudflare", "purpose": "DNS", "owner": "Fiona",
                       "login_identity": "ops@nova.test", "two_factor": "on", "billing_owner": "Fiona"},
                      "vendor", "Cloudflare", "added vendor account Cloudflare"),
    "runbookstep": ({"kind": "rollback", "position": "1", "text": "Promote the previous deploy",
                     "command": "render rollback", "last_tested": "2026-11-20"}, "text",
                    "Promote the previous deploy", "added rollback step 1 “Promote the previous deploy”"),
    "owner": ({"area": "DNS", "person": "Fiona", "contact": "fiona@nova.test"}, "person", "Fiona",
              "added owner of DNS (Fiona)"),
}

EXISTING = {
    "hostname": lambda c: Hostname.objects.create(client=c, name=f"www.{c.domain}", role="www"),
    "endpoint": lambda c: Endpoint.objects.create(client=c, kind="homepage", url=f"https://{c.domain}/"),
    "envvar": lambda c: EnvVar.objects.create(client=c, name="SENTRY_DSN", environments=["production"]),
    "vendoraccount": lambda c: VendorAccount.objects.create(client=c, vendor="Render"),
    "runbookstep": lambda c: RunbookStep.objects.create(client=c, kind="deploy", position=1, text="git push"),
    "owner": lambda c: Owner.objects.create(client=c, area="Billing", person="Ann"),
}
FOUNDER_KINDS = {"envvar", "vendoraccount"}


def add_url(kind, client):
    return reverse(f"clients:{kind}_add", kwargs={"client_id": client.pk})


def row_url(kind, action, obj):
    return reverse(f"clients:{kind}_{action}", kwargs={f"{kind}_id": obj.pk})


def test_the_table_covers_every_inventory():
    assert set(INVENTORIES) == set(VALID) == set(EXISTING)
    assert {k for k, inv in INVENTORIES.items() if inv.founders_write} == FOUNDER_KINDS


@pytest.mark.parametrize("kind", sorted(VALID))
def test_consultants_add_edit_and_delete(cast, login, kind):
    model = INVENTORIES[kind].model
    data, field, stored, logged = VALID[kind]
    web = login(cast.bob)
    assert web.get(add_url(kind, cast.nova)).status_code == 200

    response = web.post(add_url(kind, cast.nova), data)
    assert response.status_code == 302, response.context["form"].errors
    assert response.url.endswith("#" + INVENTORIES[kind].plural)
    obj = model.objects.get(client=cast.nova)
    assert getattr(obj, field) == stored
    assert ActivityEntry.objects.filter(client=cast.nova, sprint=None, actor=cast.bob, text=logged).exists()

    assert web.get(row_url(kind, "edit", obj)).status_code == 200
    response = web.post(row_url(kind, "edit", obj), data)  # unchanged: saves, logs nothing new
    assert response.status_code == 302
    entries = ActivityEntry.objects.filter(client=cast.nova, sprint=None).count()

    response = web.post(row_url(kind, "delete", obj))
    assert response.status_code == 302
    assert not model.objects.filter(pk=obj.pk).exists()
    assert ActivityEntry.objects.filter(client=cast.nova, sprint=None).count() == entries + 1
    assert ActivityEntry.objects.filter(client=cast.nova, text__startswith="removed ").exists()


def test_editing_logs_the_changed_fields(cast, login):
    var = EXISTING["envvar"](cast.nova)
    response = login(cast.alice).post(row_url("envvar", "edit", var), {
        "name": "SENTRY_DSN", "environments": ["production", "staging"], "where_stored": "Fly secrets",
    })
    assert response.status_code == 302
    var.refresh_from_db()
    assert var.environments == ["staging", "production"] and var.where_stored == "Fly secrets"
    entry = ActivityEntry.objects.get(client=cast.nova, text__startswith="changed")
    assert entry.text == "changed env var SENTRY_DSN: environments, where stored, required"


def test_runbook_add_preselects_the_kind_and_next_position(cast, login):
    RunbookStep.objects.create(client=cast.nova, kind="rollback", position=4, text="old")
    page = login(cast.alice).get(add_url("runbookstep", cast.nova) + "?kind=rollback")
    form = page.context["form"]
    assert form["kind"].value() == "rollback" and form["position"].value() == 5
    page = login(cast.alice).get(add_url("runbookstep", cast.nova) + "?kind=<script>")
    assert page.context["form"]["kind"].value() != "<script>"


def test_delete_answers_405_to_members_on_get(cast, login):
    var = EXISTING["envvar"](cast.nova)
    assert login(cast.alice).get(row_url("envvar", "delete", var)).status_code == 405
    assert EnvVar.objects.filter(pk=var.pk).exists()


# --- founders ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(FOUNDER_KINDS))
def test_founders_edit_env_vars_and_vendor_accounts_of_their_client(cast, login, kind):
    model = INVENTORIES[kind].model
    data, field, stored, logged = VALID[kind]
    web = login(cast.fiona)
    assert web.post(add_url(kind, cast.nova), data).status_code == 302
    obj = model.objects.get(client=cast.nova)
    assert ActivityEntry.objects.filter(client=cast.nova, actor=cast.fiona, text=logged).exists()
    assert web.get(row_url(kind, "edit", obj)).status_code == 200
    assert web.post(row_url(kind, "delete", obj)).status_code == 302
    assert not model.objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("kind", sorted(set(VALID) - FOUNDER_KINDS))
def test_founders_get_404_on_consultant_inventories(cast, login, kind):
    model = INVENTORIES[kind].model
    obj = EXISTING[kind](cast.nova)
    web = login(cast.fiona)
    assert web.get(add_url(kind, cast.nova)).status_code == 404
    assert web.post(add_url(kind, cast.nova), VALID[kind][0]).status_code == 404
    for action in ("edit", "delete"):
        assert web.get(row_url(kind, action, obj)).status_code == 404
        assert web.post(row_url(kind, action, obj), VALID[kind][0]).status_code == 404
    assert model.objects.filter(client=cast.nova).count() == 1


def test_founders_get_404_on_the_email_setup_form(cast, login):
    url = reverse("clients:emailsetup_edit", kwargs={"client_id": cast.nova.pk})
    assert login(cast.fiona).get(url).status_code == 404
    assert login(cast.fiona).post(url, {"dkim_selectors": "evil"}).status_code == 404
    assert EmailSetup.objects.get(client=cast.nova).dkim_selectors == []


# --- outsiders: every URL of this app, GET and POST -----------------------------------------------------------------
def client_urls(victim):
    """Every clients:* URL that takes an object, filled with objects of `victim`."""
    objects = {"client": victim, **{kind: make(victim) for kind, make in EXISTING.items()}}
    resolver = get_resolver().namespace_dict["clients"][1]
    urls = []
    for pattern in resolver.url_patterns:
        params = list(pattern.pattern.converters)
        if params:
            urls.append(reverse(f"clients:{pattern.name}", kwargs={p: objects[p[:-3]].pk for p in params}))
    return urls


@pytest.mark.parametrize("outsider, victim", [("charlie", "nova"), ("fiona", "orbit"), ("alice", "rival")])
def test_it_checks_ownership_on_every_url(cast, login, outsider, victim):
    web = login(getattr(cast, outsider))
    client = getattr(cast, victim)
    urls = client_urls(client)
    # detail, edit, email setup, verify, env upload, repository + (add, edit, delete) per inventory
    assert len(urls) == 6 + 3 * len(INVENTORIES)
    before = ActivityEntry.objects.count()
    for url in urls:
        assert web.get(url).status_code == 404, url
        posted = {**{k: v for data, *_ in VALID.values() for k, v in data.items()}, "domain": "x.example"}
        assert web.post(url, posted).status_code == 404, url
    assert ActivityEntry.objects.count() == before
    for inventory in INVENTORIES.values():  # nothing added, nothing deleted
        assert inventory.model.objects.filter(client=client).count() == 1
    client.refresh_from_db()
    assert client.domain == f"{victim}.example"


def test_unknown_ids_are_404(cast, login):
    web = login(cast.alice)
    for kind in INVENTORIES:
        assert web.get(reverse(f"clients:{kind}_add", kwargs={"client_id": uuid.uuid4()})).status_code == 404
        assert web.post(row_url(kind, "edit", Hostname(pk=uuid.uuid4()))).status_code == 404
        assert web.post(row_url(kind, "delete", Hostname(pk=uuid.uuid4()))).status_code == 404


def test_a_lost_uniqueness_race_is_a_form_error_not_a_500(cast, login, monkeypatch):
    from apps.clients.forms import EnvVarForm

    EnvVar.objects.create(client=cast.nova, name="SENTRY_DSN")
    # Simulate the race: the duplicate check passes because the other row was saved just after it ran.
    monkeypatch.setattr(EnvVarForm, "clean_name", lambda form: form.cleaned_data["name"])
    response = login(cast.alice).post(add_url("envvar", cast.nova), {"name": "SENTRY_DSN"})
    assert response.status_code == 200
    assert "saved a moment ago" in response.context["form"].non_field_errors()[0]
    assert EnvVar.objects.filter(client=cast.nova).count() == 1
    assert not ActivityEntry.objects.filter(text="added env var SENTRY_DSN").exists()
