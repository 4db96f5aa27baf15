"""Deploy-token authentication and the per-token rate limit for the deploy gate API."""

import logging

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.throttling import SimpleRateThrottle

from .models import DeployToken

log = logging.getLogger(__name__)

# One answer for unknown, malformed and revoked tokens: the caller cannot tell which.
INVALID = "Invalid or revoked deploy token."


class DeployTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer lrdt_…` → (AnonymousUser, DeployToken). No header: not this scheme (None)."""

    def authenticate(self, request):
        scheme, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        token = DeployToken.find(raw.strip())
        if token is None:
            raise AuthenticationFailed(INVALID)
        token.record_use(request.method, request.path)
        return AnonymousUser(), token

    def authenticate_header(self, request):
        return 'Bearer realm="launchready"'


class DeployTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.deploys.authentication.DeployTokenAuthentication"
    name = "deployToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "lrdt_…",
                "description": "A deploy token created on the client's page (shown once)."}


class DeployTokenRateThrottle(SimpleRateThrottle):
    """Requests per token (settings.DEPLOY_API_RATE, read per request so it can be tuned without a restart of
    this class); session callers are limited per user."""

    scope = "deploy_token"

    def get_rate(self):
        return settings.DEPLOY_API_RATE

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # noqa: BLE001 - any cache backend error
            # Like the login and order limits: a Redis outage must not stop deploys being recorded (decisions.md).
            log.warning("rate limit unavailable, not enforced", extra={"scope": self.scope,
                                                                       "error": type(exc).__name__})
            return True

    def get_cache_key(self, request, view):
        if isinstance(request.auth, DeployToken):
            return f"throttle_deploy_token_{request.auth.pk}"
        if request.user and request.user.is_authenticated:
            return f"throttle_deploy_user_{request.user.pk}"
        return None
