"""Forms of the clients app: the client itself, its inventories and its email setup.

Every child form takes the client it belongs to (`client=`) so it can check names against the client's domain.
"""

import json
import re
from urllib.parse import urlsplit, urlunsplit

from django import forms

from apps.checks.engine.envvars import looks_like_a_value
from apps.core.domains import DomainError, is_under, normalize_domain, to_unicode

from .models import (
    ENVIRONMENTS,
    Client,
    EmailSetup,
    Endpoint,
    EnvVar,
    Hostname,
    Owner,
    RunbookStep,
    VendorAccount,
)

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DomainField(forms.CharField):
    """A domain name typed by a person: Unicode accepted, cleaned to IDNA A-labels (punycode)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 253)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        try:
            return normalize_domain(value)
        except DomainError as exc:
            raise forms.ValidationError(str(exc)) from None


class ClientChildForm(forms.ModelForm):
    """Base of the inventory forms: knows its client and hands it to the instance before validation."""

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self.instance.client = client

    @staticmethod
    def describe(obj):
        """How the activity log names the row, e.g. "hostname app.nova.example"."""
        return f"{obj._meta.verbose_name} {obj}"


# --- the client ---------------------------------------------------------------------------------------------------
class ClientForm(forms.ModelForm):
    domain = DomainField(help_text="The primary domain, e.g. example.com (Unicode is fine).")
    notes = forms.CharField(required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 4}),
                            help_text="Consultant-private; founders never see this.")

    class Meta:
        model = Client
        fields = ["workspace", "name", "domain", "notes", "ai_may_supply_system_message", "staging_url"]

    def __init__(self, *args, workspaces=None, **kwargs):
        """workspaces: the queryset a new client may go to; with a single choice the field is not shown."""
        super().__init__(*args, **kwargs)
        adding = self.instance._state.adding  # (UUID primary keys exist before the first save)
        if not adding or workspaces is None or workspaces.count() == 1:
            del self.fields["workspace"]
            if adding and workspaces is not None:
                self.instance.workspace = workspaces.first()
        else:
            self.fields["workspace"].queryset = workspaces
        if not adding:
            self.initial["domain"] = self.instance.domain_unicode

    def save(self, commit=True):
        if not self.instance._state.adding and "domain" in self.changed_data:
            # Proof of ownership was for the old domain: the new one must be verified again.
            self.instance.ownership_verified_at = self.instance.ownership_checked_at = None
            self.instance.ownership_method, self.instance.ownership_result = "", {}
        return super().save(commit)

    def clean_staging_url(self):
        url = self.cleaned_data.get("staging_url", "")
        if not url:
            return ""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.username or parts.password:
            raise forms.ValidationError("Use an http:// or https:// URL without a user name or password.")
        try:
            host = normalize_domain(parts.hostname or "")
        except DomainError as exc:
            raise forms.ValidationError(f"The URL's host is not usable: {exc}") from None
        if host == self.cleaned_data.get("domain", self.instance.domain):
            raise forms.ValidationError("That is the production domain: give the staging site's own address.")
        return url

    def clean_domain(self):
        domain = self.cleaned_data["domain"]
        if not self.instance._state.adding and domain != self.instance.domain:
            outside = self.instance.names_outside(domain)
            if outside:
                listed = ", ".join(outside[:3]) + (" …" if len(outside) > 3 else "")
                raise forms.ValidationError(
                    f"{len(outside)} hostname(s) or endpoint(s) would no longer lie under this domain "
                    f"({listed}). Change or remove them first."
                )
        return domain


# --- hostnames and endpoints ---------------------------------------------------------------------------------------
class HostnameForm(ClientChildForm):
    name = DomainField(label="Hostname", help_text="A name under the client's domain, e.g. app.example.com.")

    class Meta:
        model = Hostname
        fields = ["name", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.initial["name"] = to_unicode(self.instance.name)

    def clean_name(self):
        name = self.cleaned_data["name"]
        if not is_under(name, self.client.domain):
            raise forms.ValidationError(f"The hostname must lie under {self.client.domain_unicode}.")
        duplicates = Hostname.objects.filter(client=self.client, name=name).exclude(pk=self.instance.pk)
        if duplicates.exists():
            raise forms.ValidationError("This hostname is already listed.")
        return name


class EndpointForm(ClientChildForm):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https",
                         help_text="A full http(s) URL on the client's domain, e.g. https://example.com/login.")

    class Meta:
        model = Endpoint
        fields = ["kind", "url", "method", "request_template"]
        widgets = {"request_template": forms.Textarea(attrs={"rows": 3})}

    def clean_url(self):
        url = self.cleaned_data["url"]
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            raise forms.ValidationError("That port number is out of range.") from None
        if parts.scheme not in ("http", "https"):
            raise forms.ValidationError("Use an http:// or https:// URL.")
        if parts.username or parts.password:
            raise forms.ValidationError("Leave credentials out of the URL.")
        try:
            host = normalize_domain(parts.hostname or "")
        except DomainError as exc:
            raise forms.ValidationError(f"The URL's host is not usable: {exc}") from None
        if not is_under(host, self.client.domain):
            raise forms.ValidationError(
                f"The URL must be on {self.client.domain_unicode} or one of its subdomains."
            )
        netloc = host if port is None else f"{host}:{port}"
        return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))

    def clean_request_template(self):
        template = self.cleaned_data["request_template"].strip()
        if not template:
            return ""
        if "{prompt}" not in template:
            raise forms.ValidationError('The template needs a {prompt} placeholder, e.g. {"message": "{prompt}"}.')
        try:
            json.loads(template.replace("{prompt}", "test"))
        except (ValueError, RecursionError):  # RecursionError: nested a few thousand levels deep
            raise forms.ValidationError(
                'The template must be JSON with {prompt} inside a string, e.g. {"message": "{prompt}"}.'
            ) from None
        return template

    def clean(self):
        cleaned = super().clean()
        kind, template = cleaned.get("kind"), cleaned.get("request_template")
        if kind == "chat" and "request_template" in cleaned and not template:
            self.add_error("request_template", "A chat endpoint needs a request template with {prompt}.")
        elif kind and kind != "chat" and template:
            self.add_error("request_template", "Only chat endpoints take a request template.")
        return cleaned

    @staticmethod
    def describe(obj):
        return f"{obj.kind} endpoint {obj.url}"


# --- the env-var inventory: names only ----------------------------------------------------------------------------
NEVER_VALUES = "Enter the variable's name only, like STRIPE_SECRET_KEY. Values are never collected here."
ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class EnvVarForm(ClientChildForm):
    """Names and whereabouts of environment variables. There is no value field, and a value typed into
    a field is refused without being echoed back (the field is emptied on re-render)."""

    name = forms.CharField(max_length=128, help_text="The name only, like DATABASE_URL — never the value.",
                           widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    environments = forms.MultipleChoiceField(choices=[(e, e.capitalize()) for e in ENVIRONMENTS],
                                             widget=forms.CheckboxSelectMultiple, required=False)
    SCRUB_ON_ERROR = ("name", "where_stored")

    class Meta:
        model = EnvVar
        fields = ["name", "environments", "where_stored", "required", "secret", "rotation_due"]
        widgets = {"rotation_due": DATE_INPUT,
                   "where_stored": forms.TextInput(attrs={"autocomplete": "off",
                                                          "placeholder": "e.g. Vercel project settings"})}

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not ENV_VAR_NAME.match(name) or looks_like_a_value(name):
            raise forms.ValidationError(NEVER_VALUES)
        duplicates = EnvVar.objects.filter(client=self.client, name=name).exclude(pk=self.instance.pk)
        if duplicates.exists():
            raise forms.ValidationError("This variable is already listed.")
        return name

    def clean_environments(self):
        chosen = set(self.cleaned_data["environments"])
        return [env for env in ENVIRONMENTS if env in chosen]

    def clean_where_stored(self):
        where = self.cleaned_data["where_stored"].strip()
        if looks_like_a_value(where):
            raise forms.ValidationError("Say where the variable is kept (e.g. Render dashboard), not its value.")
        return where

    def full_clean(self):
        super().full_clean()
        if self.is_bound and any(field in self.errors for field in self.SCRUB_ON_ERROR):
            self.data = self.data.copy()
            for field in self.SCRUB_ON_ERROR:
                if field in self.errors:
                    self.data[self.add_prefix(field)] = ""

    @staticmethod
    def describe(obj):
        return f"env var {obj.name}"


# --- vendor accounts, runbooks, owners ----------------------------------------------------------------------------
class VendorAccountForm(ClientChildForm):
    class Meta:
        model = VendorAccount
        fields = ["vendor", "purpose", "owner", "login_identity", "two_factor", "billing_owner"]

    @staticmethod
    def describe(obj):
        return f"vendor account {obj.vendor}"


class RunbookStepForm(ClientChildForm):
    position = forms.IntegerField(min_value=1, max_value=999, help_text="Steps run in this order.")

    class Meta:
        model = RunbookStep
        fields = ["kind", "position", "text", "command", "last_tested"]
        labels = {"text": "Step", "last_tested": "Last tested"}
        widgets = {"last_tested": DATE_INPUT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance._state.adding and not self.is_bound:
            kind = self.initial.get("kind", "deploy")
            self.initial.setdefault("position", self.client.next_runbook_position(kind))

    @staticmethod
    def describe(obj):
        return f"{obj.kind} step {obj.position} “{obj.text[:80]}”"


class OwnerForm(ClientChildForm):
    class Meta:
        model = Owner
        fields = ["area", "person", "contact"]
        help_texts = {"area": "e.g. DNS, billing, on-call", "contact": "An email address (optional)."}

    @staticmethod
    def describe(obj):
        return f"owner of {obj.area} ({obj.person})"


# --- email setup -------------------------------------------------------------------------------------------------
DKIM_SELECTOR = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
DNS_NAME_WITH_UNDERSCORES = re.compile(r"^(?:(?!-)[a-z0-9_-]{1,63}(?<!-)\.)+[a-z0-9-]{1,63}$")
MAX_LINES = 50


def normalize_spf_sender(text):
    """An SPF include target: a domain name, which (unlike a hostname) may have _labels like _spf.google.com."""
    value = text.strip().rstrip(".")
    if value.lower().startswith("include:"):
        value = value[len("include:"):]
    if "_" not in value:
        return normalize_domain(value)
    # Underscore labels are DNS-legal but not IDNA: check the rest of the name with the usual rules.
    normalize_domain(value.replace("_", "u"))
    if not DNS_NAME_WITH_UNDERSCORES.match(value.lower()):
        raise DomainError("Each part of a domain may use letters, digits, inner hyphens and underscores only.")
    return value.lower()


class LinesField(forms.CharField):
    """A textarea of one entry per line, cleaned to a de-duplicated list by `normalize_line`."""

    widget = forms.Textarea(attrs={"rows": 4})

    def __init__(self, *, normalize_line, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 5000)
        super().__init__(**kwargs)
        self.normalize_line = normalize_line

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def clean(self, value):
        text = super().clean(value)
        lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
        if len(lines) > MAX_LINES:
            raise forms.ValidationError(f"Enter at most {MAX_LINES} lines.")
        cleaned, errors = [], []
        for number, line in enumerate(lines, start=1):
            try:
                item = self.normalize_line(line)
            except (DomainError, forms.ValidationError) as exc:
                message = exc.messages[0] if isinstance(exc, forms.ValidationError) else str(exc)
                errors.append(f"Line {number}: {message}")
                continue
            if item not in cleaned:
                cleaned.append(item)
        if errors:
            raise forms.ValidationError(errors)
        return cleaned


def _dkim_selector(line):
    selector = line.lower()
    if not DKIM_SELECTOR.match(selector):
        raise forms.ValidationError("A selector is one DNS label (letters, digits, hyphens), like google or s1.")
    return selector


class EmailSetupForm(forms.ModelForm):
    approved_spf_senders = LinesField(
        normalize_line=normalize_spf_sender, label="Approved SPF senders",
        help_text="One domain per line, as in the SPF include, e.g. _spf.google.com or sendgrid.net.",
    )
    dkim_selectors = LinesField(
        normalize_line=_dkim_selector, label="DKIM selectors",
        help_text="One selector per line, e.g. google, s1, k1.",
    )

    class Meta:
        model = EmailSetup
        fields = ["approved_spf_senders", "dkim_selectors"]



# --- active checks: env-name uploads and the repository for secret scanning ----------------------------------------
ENV_UPLOAD_CHOICES = [("example", "Template (.env.example: the names the app requires)")] + [
    (env, env.capitalize()) for env in ENVIRONMENTS]


class EnvUploadForm(forms.Form):
    """A `.env`-style file for one environment. Only names survive `clean_env_file`: values are dropped while the
    file is read (apps.checks.envfile), so neither the form's cleaned data nor anything stored holds a value."""

    environment = forms.ChoiceField(choices=ENV_UPLOAD_CHOICES)
    env_file = forms.FileField(label="File", help_text="A .env.example-style file (NAME=value lines). Values are "
                                                       "discarded on upload; only the names are kept.")

    def clean_env_file(self):
        from apps.checks.envfile import EnvFileError, names_from_upload

        try:
            return names_from_upload(self.cleaned_data["env_file"])
        except EnvFileError as exc:
            raise forms.ValidationError(str(exc)) from None


REPO_UPLOAD_SUFFIXES = (".bundle", ".tar.gz", ".tgz", ".zip")


class RepositoryForm(forms.ModelForm):
    """Where deploy.secrets_in_repo looks: a public https clone URL, or an uploaded git bundle/archive."""

    repo_url = forms.URLField(label="Clone URL", required=False, max_length=500, assume_scheme="https",
                              help_text="A public https:// clone URL, e.g. https://github.com/acme/app.git.")
    repo_upload = forms.FileField(label="Or upload a bundle or archive", required=False, widget=forms.FileInput,
                                  help_text="For a private repository: `git bundle create repo.bundle --all`, or a "
                                            ".tar.gz/.zip of the repository with its .git folder.")
    remove_upload = forms.BooleanField(label="Remove the uploaded file", required=False)

    class Meta:
        model = Client
        fields = ["repo_url", "repo_upload"]

    def clean_repo_url(self):
        url = self.cleaned_data["repo_url"].strip()
        if not url:
            return ""
        parts = urlsplit(url)
        if parts.scheme != "https":
            raise forms.ValidationError("Use an https:// clone URL (upload a bundle for anything else).")
        if parts.username or parts.password:
            raise forms.ValidationError("Leave credentials out of the URL; upload a git bundle of a private "
                                        "repository instead of sharing a token.")
        try:
            _port = parts.port  # raises ValueError when out of range
            normalize_domain(parts.hostname or "")
        except (ValueError, DomainError):
            raise forms.ValidationError("The URL's host is not usable.") from None
        if parts.query or parts.fragment:
            raise forms.ValidationError("A clone URL has no query string or fragment.")
        return url

    def clean_repo_upload(self):
        from django.conf import settings
        from django.core.files.uploadedfile import UploadedFile

        upload = self.cleaned_data.get("repo_upload")
        if not isinstance(upload, UploadedFile):  # nothing new: the current file (or none) stays
            return upload
        name = str(upload.name or "").lower()
        if not name.endswith(REPO_UPLOAD_SUFFIXES):
            raise forms.ValidationError("Upload a git bundle (.bundle) or a .tar.gz/.tgz/.zip archive.")
        if upload.size > settings.REPO_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {settings.REPO_UPLOAD_MAX_BYTES // (1024 * 1024)} MB.")
        return upload
