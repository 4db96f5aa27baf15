"""Content-Security-Policy on every response (Django 5.2 has none built in).

settings.CONTENT_SECURITY_POLICY is the policy text; `{nonce}` in it becomes a fresh per-request nonce, which
templates put on their few inline <style> blocks as `nonce="{{ csp_nonce }}"` (context processor below). Scripts
are files only ('self'): no inline script, no eval (htmx needs neither). A view that sets its own
Content-Security-Policy header keeps it. An empty setting sends no header.
"""

import secrets

from django.conf import settings
from django.utils.functional import SimpleLazyObject

HEADER = "Content-Security-Policy"


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        nonce = secrets.token_urlsafe(18)
        request.csp_nonce = nonce
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        if policy and HEADER not in response:
            response[HEADER] = policy.replace("{nonce}", nonce)
        return response


def nonce(request):
    """Template context: {{ csp_nonce }} (empty outside a request that went through the middleware)."""
    return {"csp_nonce": SimpleLazyObject(lambda: getattr(request, "csp_nonce", ""))}
