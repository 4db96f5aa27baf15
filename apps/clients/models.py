from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from apps.core.domains import DomainError, is_under, normalize_domain, to_unicode
from apps.core.models import PublicModel

ENVIRONMENTS = ["development", "staging", "production"]

env_var_name = RegexValidator(
    r"^[A-Za-z_][A-Za-z0-9_]{0,127}$",
    "Use the variable's name only (letters, digits, underscores), like STRIPE_SECRET_KEY — never its value.",
)


def validate_domain(value):
    try:
        normalize_domain(value)
    except DomainError as exc:
        raise ValidationError(str(exc)) from None


class Client(PublicModel):
    """A founder's company whose product the workspace is preparing for launch."""

    workspace = models.ForeignKey("tenants.Workspace", on_delete=models.CASCADE, related_name="clients")
    name = models.CharField(max_length=120)
    domain = models.CharField(max_length=253, validators=[validate_domain],
                              help_text="The primary domain, e.g. example.com (Unicode is fine).")
    notes = models.TextField(blank=True, help_text="Consultant-private; founders never see this.")
    network_profile = models.CharField(max_length=40, default="internet",
                                       help_text="Set by operators: which network the scanner uses.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    ai_may_supply_system_message = models.BooleanField(
        "The founder allows our own system message", default=False,
        help_text="For OpenAI-compatible chat endpoints: the AI checks may send their own system message carrying "
                  "the canaries (otherwise the founder plants them in the bot's real system prompt).")
    # Proof of ownership for active checks (SPEC.md section 3): the token is issued once, on first save; the
    # verification fields record the last "Verify now". The scan runner re-verifies on every active run anyway.
    verification_token = models.CharField(max_length=128, blank=True, editable=False)
    ownership_verified_at = models.DateTimeField(null=True, blank=True)
    ownership_method = models.CharField(max_length=20, blank=True)  # dns_txt | well_known_file
    ownership_checked_at = models.DateTimeField(null=True, blank=True)
    ownership_result = models.JSONField(default=dict, blank=True, help_text="The last verification's outcome.")
    # Secret scanning (deploy.secrets_in_repo): a public https clone URL and/or an uploaded bundle/archive.
    repo_url = models.URLField("repository clone URL", max_length=500, blank=True)
    repo_upload = models.FileField("repository bundle or archive", upload_to="repos/%Y/%m/", blank=True)
    repo_upload_name = models.CharField(max_length=200, blank=True)
    # The deploy gate smoke-tests staging deploys here, never on the production domain.
    staging_url = models.URLField(
        "staging URL", max_length=500, blank=True,
        help_text="The staging site's homepage, e.g. https://staging.example.com/ or a preview host. Staging deploys "
                  "reported from CI are smoke-tested here; without it they are refused.")

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["workspace", "name"])]

    def __str__(self):
        return self.name

    @property
    def domain_unicode(self):
        return to_unicode(self.domain)

    def clean(self):
        if self.domain:
            try:
                self.domain = normalize_domain(self.domain)
            except DomainError as exc:
                raise ValidationError({"domain": str(exc)}) from None

    def save(self, *args, **kwargs):
        if not self.verification_token:
            from apps.checks.engine.ownership import new_token

            self.verification_token = new_token()
        super().save(*args, **kwargs)

    @property
    def ownership_verified(self):
        return self.ownership_verified_at is not None

    @property
    def verification_txt_record(self):
        from apps.checks.engine.ownership import TXT_PREFIX

        return f"{TXT_PREFIX}{self.verification_token}"

    @property
    def verification_file_url(self):
        from apps.checks.engine.ownership import file_url

        return file_url(self.domain)

    def verify_ownership(self):
        """Look for the token now (DNS TXT and the well-known file, through the client's network profile) and
        record the outcome. Returns the engine's Ownership; raises ImproperlyConfigured for a missing profile."""
        from django.utils import timezone

        from apps.checks.engine.ownership import verify_ownership_now
        from apps.checks.profiles import get_profile

        if not self.verification_token:
            self.save()
        result = verify_ownership_now(self.domain, self.verification_token, get_profile(self.network_profile))
        now = timezone.now()
        self.ownership_checked_at = now
        self.ownership_result = result.to_dict()
        self.ownership_verified_at = now if result.verified else None
        self.ownership_method = (result.method or "") if result.verified else ""
        Client.objects.filter(pk=self.pk).update(
            ownership_checked_at=now, ownership_result=self.ownership_result,
            ownership_verified_at=self.ownership_verified_at, ownership_method=self.ownership_method)
        return result

    @property
    def repo_source_label(self):
        return self.repo_upload_name if self.repo_upload else self.repo_url

    def forget_repo_upload(self):
        """Delete the uploaded repository file from storage (it is kept only while it is the configured source);
        the caller saves the row."""
        if self.repo_upload:
            self.repo_upload.delete(save=False)
        self.repo_upload = ""
        self.repo_upload_name = ""

    def log(self, actor, text):
        """Record a client-level change (not tied to a sprint) in the activity log."""
        from apps.sprints.models import ActivityEntry

        return ActivityEntry.objects.create(client=self, sprint=None, actor=actor, text=text[:500])

    def get_email_setup(self):
        """The client's EmailSetup, created on first use (older rows may predate it)."""
        setup, _ = EmailSetup.objects.get_or_create(client=self)
        return setup

    def next_runbook_position(self, kind):
        last = self.runbook_steps.filter(kind=kind).order_by("-position").values_list("position", flat=True).first()
        return (last or 0) + 1

    def names_outside(self, domain):
        """Hostnames and endpoint URLs that would no longer lie under `domain` (an A-label)."""
        from urllib.parse import urlsplit

        outside = [h.name for h in self.hostnames.all() if not is_under(h.name, domain)]
        for endpoint in self.endpoints.all():
            host = (urlsplit(endpoint.url).hostname or "").lower()
            if not is_under(host, domain):
                outside.append(endpoint.url)
        return outside


class Hostname(PublicModel):
    ROLES = [(r, r) for r in ["apex", "www", "app", "api", "docs", "auth", "status", "other"]]

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="hostnames")
    name = models.CharField(max_length=253, validators=[validate_domain])
    role = models.CharField(max_length=10, choices=ROLES, default="other")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["client", "name"], name="unique_hostname_per_client")]

    def __str__(self):
        return self.name

    def clean(self):
        if not self.name:
            return
        try:
            self.name = normalize_domain(self.name)
        except DomainError as exc:
            raise ValidationError({"name": str(exc)}) from None
        if self.client_id and not is_under(self.name, self.client.domain):
            raise ValidationError({"name": f"The hostname must lie under {self.client.domain}."})


class Endpoint(PublicModel):
    KINDS = [(k, k) for k in ["homepage", "login", "health", "chat", "checkout", "other"]]
    METHODS = [("GET", "GET"), ("POST", "POST"), ("HEAD", "HEAD")]

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="endpoints")
    kind = models.CharField(max_length=10, choices=KINDS)
    url = models.URLField(max_length=500, help_text="Full https:// URL on the client's domain.")
    method = models.CharField(max_length=6, choices=METHODS, default="GET")
    request_template = models.TextField(
        blank=True, max_length=4000,
        help_text='For chat endpoints: a JSON body with a {prompt} placeholder, e.g. {"message": "{prompt}"}.',
    )

    class Meta:
        ordering = ["kind", "url"]

    def __str__(self):
        return f"{self.kind}: {self.url}"

    def clean(self):
        from urllib.parse import urlsplit

        if not self.url:
            return
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https"):
            raise ValidationError({"url": "Use an http:// or https:// URL."})
        try:
            host = normalize_domain(parts.hostname or "")
        except DomainError as exc:
            raise ValidationError({"url": f"The URL's host is not usable: {exc}"}) from None
        if self.client_id and not is_under(host, self.client.domain):
            raise ValidationError({"url": f"The URL must be on {self.client.domain} or one of its subdomains."})
        if self.request_template:
            import json

            try:
                json.loads(self.request_template.replace("{prompt}", "test"))
            except (ValueError, RecursionError):
                raise ValidationError({"request_template": "The template must be JSON (with {prompt})."}) from None
            if "{prompt}" not in self.request_template:
                raise ValidationError({"request_template": "The template needs a {prompt} placeholder."})


class EmailSetup(models.Model):
    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="email_setup")
    approved_spf_senders = models.JSONField(default=list, blank=True,
                                            help_text="SPF includes the client approves, e.g. _spf.google.com.")
    dkim_selectors = models.JSONField(default=list, blank=True, help_text="DKIM selectors, e.g. google, s1.")

    def __str__(self):
        return f"Email setup of {self.client}"


class EnvVar(PublicModel):
    """An environment variable's *name* and where it lives. Values are never collected."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="env_vars")
    name = models.CharField(max_length=128, validators=[env_var_name])
    environments = models.JSONField(default=list, blank=True, help_text="Where it exists.")
    where_stored = models.CharField(max_length=200, blank=True, help_text="e.g. Vercel project settings")
    required = models.BooleanField(default=True)
    secret = models.BooleanField(default=False)
    rotation_due = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["client", "name"], name="unique_env_var_per_client")]

    def __str__(self):
        return self.name

    @property
    def environment_flags(self):
        """[(environment, present?)] in the canonical order, for the name × environment table."""
        return [(env, env in (self.environments or [])) for env in ENVIRONMENTS]

    @property
    def rotation_overdue(self):
        from django.utils import timezone

        return self.rotation_due is not None and self.rotation_due < timezone.localdate()


class VendorAccount(PublicModel):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="vendor_accounts")
    vendor = models.CharField(max_length=100)
    purpose = models.CharField(max_length=200, blank=True)
    owner = models.CharField(max_length=120, blank=True, help_text="The person who owns the account.")
    login_identity = models.CharField(max_length=200, blank=True, help_text="The login email or SSO identity.")
    two_factor = models.BooleanField("2FA on", default=False)
    billing_owner = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["vendor"]

    def __str__(self):
        return self.vendor


class RunbookStep(PublicModel):
    KINDS = [("deploy", "Deploy"), ("rollback", "Rollback")]

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="runbook_steps")
    kind = models.CharField(max_length=10, choices=KINDS)
    position = models.PositiveSmallIntegerField(default=1)
    text = models.CharField(max_length=500)
    command = models.CharField(max_length=500, blank=True)
    last_tested = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "position"]

    def __str__(self):
        return f"{self.kind} {self.position}: {self.text}"


class Owner(PublicModel):
    """Who owns an area after handover (DNS, billing, on-call, …)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="owners")
    area = models.CharField(max_length=100)
    person = models.CharField(max_length=120)
    contact = models.EmailField(blank=True)

    class Meta:
        ordering = ["area"]

    def __str__(self):
        return f"{self.area}: {self.person}"
