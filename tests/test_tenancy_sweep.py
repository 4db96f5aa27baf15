"""Tenancy sweep: every URL pattern that takes an object reference answers 404 to outsiders.

The sweep walks the whole URLconf. Each `<uuid:MODELNAME_id>` kwarg is filled with an object that belongs to a victim
(client `orbit` of workspace acme, or workspace acme itself). Then:
- charlie (owner of another workspace) must get 404 — GET and POST;
- fiona (founder of acme's *other* client nova) must get 404 — GET and POST.
A new URL pattern whose kwargs this file cannot fill makes the test fail: add a factory below.
"""

import uuid

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# Patterns that take a parameter but are deliberately reachable without membership, and why.
PUBLIC_PATTERNS = {
    "tenants:invitation_accept": "the token in the emailed link is the credential",
    "tenants:email_confirm": "the signed token in the emailed link is the credential",
    "tenants:password_reset_confirm": "Django's password-reset token is the credential",
    "billing:storefront": "a workspace's public self-serve page: it sells to anyone, the slug is no credential",
    "billing:score": "the long random token in the buyer's link is the credential",
    "reports:score_pdf": "the self-serve buyer's unguessable order token is the credential (as billing:score)",
    "monitoring:status_page": "the opt-in public status page: its unguessable token is the address",
}
SKIPPED_NAMESPACES = {"admin"}  # Django admin: staff only, its own permission system.


def walk(patterns, namespace="", converters=None):
    for entry in patterns:
        conv = {**(converters or {}), **getattr(entry.pattern, "converters", {})}
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from walk(entry.url_patterns, full, conv)
        elif isinstance(entry, URLPattern):
            params = _params(entry, conv)
            if params:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                yield name, params, entry


def _params(entry, conv):
    names = list(conv)
    regex_groups = list(entry.pattern.regex.groupindex)
    return {n: type(conv.get(n)).__name__ for n in names or regex_groups} if (names or regex_groups) else {}


def object_patterns():
    out = []
    for name, params, entry in walk(get_resolver().url_patterns):
        if name and name.split(":")[0] in SKIPPED_NAMESPACES:
            continue
        if entry.callback.__module__ == "django.views.static":  # DEBUG-only media serving
            continue
        out.append((name, params, entry))
    return out


def _model(model_name):
    for model in apps.get_models():
        if model._meta.model_name == model_name and model.__module__.startswith("apps."):
            return model
    return None


# --- factories: make an object of each model owned by the victim (client orbit / workspace acme) ----------------
def _factories(cast):
    from apps.checklists.models import ChecklistTemplate
    from apps.clients import models as cm
    from apps.inbound.models import DeliveryTest
    from apps.tenants.models import Invitation

    orbit = cast.orbit
    template = ChecklistTemplate.default().copy_to(cast.acme, name="Acme roadmap")
    stage = template.stages.first()
    invitation, _ = Invitation.issue(workspace=cast.acme, email="new@acme.test", role="consultant",
                                     invited_by=cast.alice)
    makers = {
        "workspace": lambda: cast.acme,
        "client": lambda: orbit,
        "sprint": lambda: cast.orbit_sprint,
        "sprintitem": lambda: cast.orbit_sprint.items.first(),
        "hostname": lambda: cm.Hostname.objects.create(client=orbit, name="app.orbit.example", role="app"),
        "endpoint": lambda: cm.Endpoint.objects.create(client=orbit, kind="homepage", url="https://orbit.example/"),
        "emailsetup": lambda: orbit.email_setup,
        "envvar": lambda: cm.EnvVar.objects.create(client=orbit, name="DATABASE_URL"),
        "vendoraccount": lambda: cm.VendorAccount.objects.create(client=orbit, vendor="Render"),
        "runbookstep": lambda: cm.RunbookStep.objects.create(client=orbit, kind="deploy", text="git push"),
        "owner": lambda: cm.Owner.objects.create(client=orbit, area="DNS", person="Ann"),
        "checklisttemplate": lambda: template,
        "templatestage": lambda: stage,
        "templateitem": lambda: stage.items.first(),
        "invitation": lambda: invitation,
        "activityentry": lambda: cast.orbit_sprint.log(cast.alice, "did something"),
        "scanrun": lambda: _scan_for(orbit, cast.orbit_sprint),
        "scoreorder": lambda: _score_order_for(cast.acme),
        "deliverytest": lambda: DeliveryTest.objects.create(sprint=cast.orbit_sprint),
        "handoverpack": lambda: _pack_for(cast.orbit_sprint, cast.alice),
        "monitor": lambda: _monitor_for(orbit),
        "alertchannel": lambda: _alert_channel_for(orbit),
        "deploytoken": lambda: _deploy_token_for(orbit),
        "deploy": lambda: _deploy_for(orbit, cast.orbit_sprint),
    }
    made = {}

    def once(name):
        def make():
            if name not in made:
                made[name] = makers[name]()
            return made[name]
        return make

    # One object per model, however many URLs take it (unique constraints).
    return {name: once(name) for name in makers}


def _scan_for(client, sprint):
    from apps.checks.models import Finding, ScanRun

    scan = ScanRun.objects.create(client=client, sprint=sprint, profile="internet", domain=client.domain,
                                  state=ScanRun.DONE, score=80, grade="B", decision="go")
    Finding.objects.create(scan=scan, check_id="http.hsts", target=client.domain, status="warn", severity="medium",
                           summary="HSTS max-age is short.")
    return scan


def _score_order_for(workspace):
    from apps.billing.models import ScoreOrder

    return ScoreOrder.objects.create(workspace=workspace, domain="orbit-lead.example.com", email="lead@orbit.test",
                                     amount=4900, currency="usd", state=ScoreOrder.DONE)
def _pack_for(sprint, actor):
    """An issued, rendered-looking pack (founders may download issued packs, so this is the strictest case)."""
    from django.core.files.base import ContentFile

    from apps.reports.models import HandoverPack

    pack = HandoverPack.request_for(sprint, actor)
    pack.pdf.save(f"{sprint.pk}/sweep.pdf", ContentFile(b"%PDF-1.7 sweep"), save=True)
    pack.issue(actor, [])
    return pack
def _monitor_for(client):
    from apps.monitoring.models import Monitor

    return Monitor.objects.create(client=client, name="Homepage", url=f"https://{client.domain}/")


def _alert_channel_for(client):
    from apps.monitoring.models import AlertChannel

    channel = AlertChannel(client=client, kind="email", name="On-call mail", owner="Ann")
    channel.target = "oncall@orbit.example"
    channel.save()
    return channel
def _deploy_token_for(client):
    from apps.deploys.models import DeployToken

    return DeployToken.issue(client=client, environment="production")[0]


def _deploy_for(client, sprint):
    from apps.deploys.models import Deploy

    return Deploy.objects.create(client=client, sprint=sprint, environment="production", version="v1")


# Non-object parameters and the sample values used to build URLs.
SAMPLE_VALUES = {}


def _kwargs_for(name, params, factories):
    kwargs = {}
    for param, converter in params.items():
        if param.endswith("_id") and converter == "UUIDConverter":
            model_name = param[:-3]
            assert model_name in factories, (
                f"URL {name!r} takes {param!r}: add a factory for model {model_name!r} to tests/test_tenancy_sweep.py"
            )
            kwargs[param] = factories[model_name]().pk
        elif param in SAMPLE_VALUES:
            kwargs[param] = SAMPLE_VALUES[param]
        else:
            raise AssertionError(
                f"URL {name!r} takes {param!r} ({converter}): object references must be <uuid:MODELNAME_id>; "
                "other parameters need a SAMPLE_VALUES entry, public ones a PUBLIC_PATTERNS entry"
            )
    return kwargs


def test_every_parameterised_url_is_named_and_has_coverage():
    patterns = object_patterns()
    assert patterns, "the sweep found no parameterised URL at all"
    for name, params, entry in patterns:
        assert name, f"unnamed URL pattern with parameters: {entry.pattern}"
        if name in PUBLIC_PATTERNS:
            continue
        for param, converter in params.items():
            if param.endswith("_id"):
                assert converter == "UUIDConverter", f"{name}: {param} must use the uuid converter"
                assert _model(param[:-3]) is not None, f"{name}: {param} names no model"


@pytest.mark.django_db
def test_outsiders_get_404_on_every_object_url(cast, client):
    factories = _factories(cast)
    checked = 0
    failures = []
    for name, params, _entry in object_patterns():
        if name in PUBLIC_PATTERNS:
            continue
        url = reverse(name, kwargs=_kwargs_for(name, params, factories))
        for outsider in (cast.charlie, cast.fiona):
            client.force_login(outsider)
            get = client.get(url)
            post = client.post(url, {})
            if get.status_code not in (404, 405) or post.status_code != 404:
                failures.append(f"{name} {url} as {outsider.email}: GET {get.status_code}, POST {post.status_code}")
            checked += 1
    assert not failures, "outsiders reached objects:\n" + "\n".join(failures)
    assert checked >= 2


@pytest.mark.django_db
def test_unknown_ids_are_404_for_members_too(cast, client):
    client.force_login(cast.alice)
    for name, params, _entry in object_patterns():
        if name in PUBLIC_PATTERNS or not all(p.endswith("_id") for p in params):
            continue
        url = reverse(name, kwargs={p: uuid.uuid4() for p in params})
        assert client.get(url).status_code in (404, 405), url
        assert client.post(url, {}).status_code == 404, url
