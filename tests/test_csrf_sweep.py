"""CSRF sweep: every URL pattern refuses a POST (or DELETE) without a CSRF token with 403.

The sweep walks the whole URLconf (object URLs filled with the tenancy sweep's factories, other parameters with
sample strings) and posts, without a token, both anonymously and as the workspace owner, using
Client(enforce_csrf_checks=True) — the test client otherwise skips CSRF checks.
A view may be exempt only if it is listed below with the reason (webhooks and APIs authenticated otherwise).
"""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.test_tenancy_sweep import _factories

# URL name -> why it may accept a POST without a CSRF token. Keep this list short, and each reason real.
CSRF_EXEMPT = {
    "deploys_api:deploys": "DRF API view: deploy-token (Bearer) requests carry no cookie; session requests get DRF's own CSRF check (SessionAuthentication.enforce_csrf)",
    "deploys_api:deploy": "DRF API view: deploy-token (Bearer) requests carry no cookie; session requests get DRF's own CSRF check (SessionAuthentication.enforce_csrf)",
    "deploys_api:rollback": "DRF API view: deploy-token (Bearer) requests carry no cookie; session requests get DRF's own CSRF check (SessionAuthentication.enforce_csrf)",
    "deploys_api:readiness": "DRF API view: deploy-token (Bearer) requests carry no cookie; session requests get DRF's own CSRF check (SessionAuthentication.enforce_csrf)",
    "api:schema": "read-only OpenAPI schema (GET); DRF views are csrf_exempt and it changes nothing",
    "billing:webhook": "Stripe posts server-to-server; the Stripe-Signature HMAC over the raw body authenticates it",
}
SKIPPED_NAMESPACES = {"admin"}  # Django admin: its own views are csrf_protect-ed; its login is ours (tenants:login)


def _all_patterns(patterns=None, namespace=""):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            yield from _all_patterns(entry.url_patterns, f"{namespace}:{ns}" if namespace and ns else ns or namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            if name.split(":")[0] in SKIPPED_NAMESPACES or entry.callback.__module__ == "django.views.static":
                continue
            yield name, entry


def _url(name, entry, factories):
    kwargs = {}
    for param, converter in entry.pattern.converters.items():
        if param.endswith("_id") and type(converter).__name__ == "UUIDConverter":
            kwargs[param] = factories[param[:-3]]().pk
        else:
            kwargs[param] = "sample-value"
    for param in entry.pattern.regex.groupindex:
        kwargs.setdefault(param, "sample-value")
    return reverse(name, kwargs=kwargs)


@pytest.mark.django_db
def test_every_url_refuses_a_post_without_a_csrf_token(cast):
    factories = _factories(cast)
    anonymous, owner = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    owner.force_login(cast.alice)
    failures, checked = [], 0
    for name, entry in _all_patterns():
        url = _url(name, entry, factories)
        exempt = getattr(entry.callback, "csrf_exempt", False)
        if exempt or name in CSRF_EXEMPT:
            if not (exempt and CSRF_EXEMPT.get(name)):
                failures.append(f"{name}: csrf_exempt views need a CSRF_EXEMPT entry with a reason (and vice versa)")
            continue
        for who, client in (("anonymous", anonymous), ("owner", owner)):
            for method in ("post", "delete"):  # PUT and PATCH take the same path through CsrfViewMiddleware
                response = getattr(client, method)(url, {"name": "x", "email": "x@example.test"})
                checked += 1
                if response.status_code != 403:
                    failures.append(f"{name} ({who}) {method.upper()} {url}: {response.status_code} without a token")
    assert not failures, "\n".join(failures)
    assert checked >= 120, f"only {checked} requests were checked"


@pytest.mark.django_db
def test_the_same_post_with_a_token_gets_past_csrf(cast):
    """The control: the sweep's 403s come from the CSRF check, not from something else refusing the POST."""
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("tenants:login"))
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("tenants:login"), {"username": "alice@acme.test", "password": cast.password,
                                                      "csrfmiddlewaretoken": token})
    assert response.status_code == 302
