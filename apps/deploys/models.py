"""Deploy tokens (a founder's CI credential for one client and environment) and the deploys they report."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.http import Http404
from django.utils import timezone

from apps.core.models import PublicModel

TOKEN_PREFIX = "lrdt_"
ENVIRONMENTS = [("staging", "staging"), ("production", "production")]
READ_LOG_QUIET = timedelta(hours=1)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()


class DeployTokenQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(revoked_at=None)


class DeployToken(PublicModel):
    """A bearer token for one client and one environment. Only its sha256 is stored; the value is shown once."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="deploy_tokens")
    environment = models.CharField(max_length=10, choices=ENVIRONMENTS)
    label = models.CharField(max_length=80, blank=True, help_text="Where it is used, e.g. “GitHub Actions”.")
    token_hash = models.CharField(max_length=64, unique=True)
    token_hint = models.CharField(max_length=12, help_text="The first characters, to recognise it in a list.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = DeployTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.token_hint}… ({self.environment})"

    @classmethod
    def issue(cls, *, client, environment, label="", created_by=None) -> tuple[DeployToken, str]:
        """Create a token; returns (row, raw value). The raw value exists only in this return value."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(client=client, environment=environment, label=label, created_by=created_by,
                                   token_hash=hash_token(raw), token_hint=raw[:10])
        client.log(created_by, f"created deploy token {token.token_hint}… for {environment}"
                               f"{f' ({label})' if label else ''}")
        return token, raw

    @classmethod
    def find(cls, raw: str) -> DeployToken | None:
        """The live token with this value, or None (unknown, malformed and revoked look the same)."""
        if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
            return None
        return cls.objects.usable().select_related("client").filter(token_hash=hash_token(raw)).first()

    @property
    def is_revoked(self):
        return self.revoked_at is not None

    def revoke(self, actor) -> bool:
        """Conditional UPDATE: revoking twice logs once."""
        if not DeployToken.objects.filter(pk=self.pk, revoked_at=None).update(revoked_at=timezone.now(),
                                                                               revoked_by=actor):
            return False
        self.client.log(actor, f"revoked deploy token {self.token_hint}… ({self.environment})")
        return True

    def record_use(self, method: str, path: str) -> None:
        now = timezone.now()
        DeployToken.objects.filter(pk=self.pk).update(last_used_at=now)
        # CI polls GET /api/v1/deploys/{id} every few seconds until the verdict: a line per poll would bury the
        # client's log. Every write is logged; a read only when the token had been quiet for READ_LOG_QUIET.
        if method in ("GET", "HEAD", "OPTIONS") and self.last_used_at and now - self.last_used_at < READ_LOG_QUIET:
            return
        # Reads "someone called POST /api/v1/deploys with deploy token lrdt_ab12c… (production)" in the log.
        self.client.log(None, f"called {method} {path[:200]} with deploy token {self.token_hint}… ({self.environment})")

    # The token's reach is its client alone: these are its only ways to fetch rows (404 for anything else).
    def get_deploy(self, deploy_id) -> Deploy:
        deploy = Deploy.objects.select_related("client", "sprint", "scan").filter(pk=deploy_id,
                                                                                  client_id=self.client_id).first()
        if deploy is None:
            raise Http404
        return deploy

    def get_client(self, client_id):
        if str(client_id) != str(self.client_id):
            raise Http404
        return self.client


class Deploy(PublicModel):
    """One deploy (or rollback) reported by CI, and the verdict of the smoke test that followed it."""

    DEPLOY, ROLLBACK = "deploy", "rollback"
    KINDS = [(DEPLOY, "deploy"), (ROLLBACK, "rollback")]
    PENDING, PASS, FAIL = "pending", "pass", "fail"
    VERDICTS = [(PENDING, "pending"), (PASS, "pass"), (FAIL, "fail")]

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="deploys")
    sprint = models.ForeignKey("sprints.Sprint", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="deploys")
    token = models.ForeignKey(DeployToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="deploys")
    kind = models.CharField(max_length=8, choices=KINDS, default=DEPLOY)
    environment = models.CharField(max_length=10, choices=ENVIRONMENTS)
    version = models.CharField(max_length=120)
    changelog_url = models.URLField(max_length=500, blank=True)
    rollback_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="rollbacks")
    performed_by = models.CharField(max_length=120, blank=True, help_text="Who rolled back (as CI reports it).")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    idempotency_key = models.CharField(max_length=120, blank=True)
    scan = models.ForeignKey("checks.ScanRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    verdict = models.CharField(max_length=7, choices=VERDICTS, default=PENDING)
    failures = models.JSONField(default=list, blank=True, help_text="[{check, target, status, reason}]")
    concluded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["client", "-created_at"])]
        constraints = [
            # A CI retry with the same Idempotency-Key finds the first deploy instead of recording another.
            models.UniqueConstraint(fields=["client", "idempotency_key"], condition=~models.Q(idempotency_key=""),
                                    name="deploy_idempotency_key_per_client"),
        ]

    def __str__(self):
        return f"{self.kind} {self.version} to {self.environment}"

    @property
    def is_concluded(self):
        return self.verdict != self.PENDING
