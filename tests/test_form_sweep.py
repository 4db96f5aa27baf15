"""Form sweep: every POST form the app renders is fed malformed values; none may answer 5xx.

The sweep visits every page it can build a URL for (as the workspace owner, and anonymously for public pages),
collects each `<form method="post">` and its field names from the HTML, and posts malformed payloads to it.
Overlong input must be refused with a visible field error, not silently accepted or crashed on.
"""

from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from django.urls import reverse

from tests.test_tenancy_sweep import PUBLIC_PATTERNS, _factories, _kwargs_for, object_patterns, walk

MALFORMED = {
    "overlong": "x" * 5001,
    "html": "<script>alert(1)</script><img src=http://10.0.0.1/x>",
    "unicode": "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ‮ ﷽ \u200b",
    "nul": "abc\x00def",
    "number-ish": "-99999999999999999999",
    "date-ish": "2026-02-31T25:61",
    "url-ish": "javascript:alert(1)",
}
SKIP_ACTIONS = ("/accounts/logout/",)
TEXT_KINDS = {"text", "textarea", "email", "url", "password", "search", "tel", "input"}


class FormCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms, self._current = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self._current = {"action": attrs.get("action") or "", "fields": {}}
            self.forms.append(self._current)
        elif self._current is not None and tag in ("input", "textarea", "select") and attrs.get("name"):
            if attrs.get("type") in ("submit", "button", "file"):
                return
            self._current["fields"][attrs["name"]] = attrs.get("type") or tag

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def collect_forms(html, page_url):
    parser = FormCollector()
    parser.feed(html)
    return [(urljoin(page_url, f["action"] or page_url), f["fields"]) for f in parser.forms]


def _pages(cast):
    factories = _factories(cast)
    pages = []
    for name, params, _entry in object_patterns():
        if name in PUBLIC_PATTERNS:
            continue
        pages.append(reverse(name, kwargs=_kwargs_for(name, params, factories)))
    for name, _params, _entry in _plain_patterns():
        pages.append(reverse(name))
    return pages


def _plain_patterns():
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk_plain(patterns, namespace=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if getattr(entry.pattern, "converters", {}):
                    continue
                ns = entry.namespace or ""
                yield from walk_plain(entry.url_patterns, f"{namespace}:{ns}" if namespace and ns else ns or namespace)
            elif isinstance(entry, URLPattern) and entry.name and not getattr(entry.pattern, "converters", {}):
                if entry.pattern.regex.groupindex:
                    continue
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                if not name.startswith("admin:"):
                    yield name, {}, entry

    assert walk  # the parameterised walker lives in the tenancy sweep
    return list(walk_plain(get_resolver().url_patterns))


def _payload(fields, value):
    data = {}
    for name, kind in fields.items():
        if name == "csrfmiddlewaretoken":
            continue
        data[name] = value if kind not in ("checkbox", "radio") else "on"
    return data


def _sweep(client, pages, relogin):
    forms_seen, failures = set(), []
    for page in pages:
        relogin()
        response = client.get(page)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        for action, fields in collect_forms(response.content.decode(), page):
            fields = {n: k for n, k in fields.items() if n != "csrfmiddlewaretoken"}
            if not fields or action.endswith(SKIP_ACTIONS) or (action, tuple(fields)) in forms_seen:
                continue
            typed = any(k in TEXT_KINDS for k in fields.values())
            forms_seen.add((action, tuple(fields)))
            for label, value in MALFORMED.items():
                relogin()
                result = client.post(action, _payload(fields, value))
                if result.status_code >= 500:
                    failures.append(f"{action} ({label}): {result.status_code}")
                elif label == "overlong" and typed and result.status_code == 302:
                    failures.append(f"{action} accepted 5,001-character values for {sorted(fields)}")
    return forms_seen, failures


@pytest.mark.django_db
def test_every_form_refuses_malformed_input_without_a_500(cast, client):
    client.raise_request_exception = False
    forms, failures = _sweep(client, _pages(cast), lambda: client.force_login(cast.alice))
    assert not failures, "\n".join(failures)
    assert len(forms) >= 15, f"the sweep found only {len(forms)} forms: {sorted(a for a, _ in forms)}"


@pytest.mark.django_db
def test_public_forms_refuse_malformed_input_without_a_500(cast, client):
    client.raise_request_exception = False
    public = [reverse(n) for n, _, _ in _plain_patterns()]
    forms, failures = _sweep(client, public, client.logout)
    assert not failures, "\n".join(failures)
    assert len(forms) >= 2
