"""Content-Security-Policy (apps/core/csp.py): every response carries it, and every page we render obeys it.

The sweep GETs every URL pattern (the CSRF sweep's walk: object URLs from the tenancy sweep's factories) as the
workspace owner, the founder and anonymously, and reads each HTML page the way a browser enforcing the policy would:
no inline script, no event-handler or style attribute, every <style> carrying this response's nonce, and every
script, stylesheet, image and frame from our own origin.
"""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import path, reverse

from tests.test_csrf_sweep import _all_patterns, _url
from tests.test_tenancy_sweep import _factories


def _policy(response) -> dict[str, list[str]]:
    policy = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        policy[name] = values
    return policy


class _Violations(HTMLParser):
    RESOURCE_ATTRS = {"script": "src", "link": "href", "img": "src", "iframe": "src", "frame": "src",
                      "embed": "src", "object": "data", "source": "src", "audio": "src", "video": "src"}

    def __init__(self, nonce):
        super().__init__()
        self.nonce, self.found, self._in_inline_script = nonce, [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…> (inline event handler)")
            if name == "style":
                self.found.append(f"<{tag} style=…> (inline style attribute)")
            if name in ("hx-on", "hx-vals") or name.startswith("hx-on"):
                self.found.append(f"<{tag} {name}=…> (htmx would need eval)")
        if tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json":
            self.found.append("inline <script>")
        if tag == "style" and attrs.get("nonce") != self.nonce:
            self.found.append(f"<style> without this response's nonce (nonce={attrs.get('nonce')!r})")
        url = attrs.get(self.RESOURCE_ATTRS.get(tag, ""), "") or ""
        if tag == "link" and "stylesheet" not in (attrs.get("rel") or "") and "icon" not in (attrs.get("rel") or ""):
            url = ""
        parts = urlsplit(url)
        if parts.scheme == "data" and tag == "img":
            return
        if url and (parts.scheme or parts.netloc):
            self.found.append(f"<{tag}> loads {url} from another origin")


@pytest.mark.django_db
def test_every_page_obeys_the_policy_it_is_served_with(cast):
    factories = _factories(cast)
    owner, founder, anonymous = Client(), Client(), Client()
    owner.force_login(cast.alice)
    founder.force_login(cast.fiona)
    urls = [_url(name, entry, factories) for name, entry in _all_patterns()]
    urls.append(reverse("billing:storefront", kwargs={"workspace_slug": cast.acme.slug}))
    # the founder's own sprint and client (the factories' objects belong to orbit, which fiona must not see)
    urls += [url.replace(str(cast.orbit_sprint.pk), str(cast.nova_sprint.pk)) for url in urls
             if str(cast.orbit_sprint.pk) in url]
    problems, pages = [], 0
    for who, client in (("owner", owner), ("founder", founder), ("anonymous", anonymous)):
        for url in urls:
            response = client.get(url)
            if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
                continue
            pages += 1
            policy = _policy(response)
            nonce = next(v for v in policy["style-src"] if v.startswith("'nonce-"))[len("'nonce-"):-1]
            parser = _Violations(nonce)
            parser.feed(response.content.decode())
            problems += [f"{who} {url}: {p}" for p in parser.found]
    assert pages >= 25, f"only {pages} HTML pages were rendered; the sweep is not reaching the app"
    assert not problems, "\n".join(sorted(set(problems)))


@pytest.mark.django_db
def test_the_policy_allows_only_our_origin_and_a_fresh_nonce_per_response(client):
    first, second = client.get(reverse("tenants:login")), client.get(reverse("tenants:login"))
    policy = _policy(first)
    assert policy["default-src"] == ["'self'"] and policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert not any("unsafe" in v for values in policy.values() for v in values)
    assert first["Content-Security-Policy"] != second["Content-Security-Policy"]  # the nonce changes


def _own_policy_view(request):
    response = HttpResponse("embedded")
    response["Content-Security-Policy"] = "frame-ancestors https://partner.example"
    return response


urlpatterns = [path("own-policy/", _own_policy_view)]


@pytest.mark.django_db
def test_a_view_with_its_own_policy_keeps_it_and_an_empty_setting_sends_none(client, settings):
    settings.ROOT_URLCONF = __name__
    assert client.get("/own-policy/")["Content-Security-Policy"] == "frame-ancestors https://partner.example"
    settings.ROOT_URLCONF = "launchready.urls"
    settings.CONTENT_SECURITY_POLICY = ""
    assert "Content-Security-Policy" not in client.get(reverse("tenants:login"))


@pytest.mark.django_db
def test_the_branded_portal_style_carries_the_nonce(cast, login):
    cast.acme.primary_colour = "#112233"
    cast.acme.save()
    client = login(cast.alice)
    response = client.get(reverse("tenants:workspace_settings", kwargs={"workspace_id": cast.acme.pk}))
    nonce = next(v for v in _policy(response)["style-src"] if v.startswith("'nonce-"))[len("'nonce-"):-1]
    html = response.content.decode()
    assert f'<style nonce="{nonce}">' in html and "#112233" in html
