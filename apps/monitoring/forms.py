"""Forms of monitoring: a monitor's settings, its pause/maintenance controls, and an alert channel."""

from urllib.parse import urlsplit

from django import forms

from .models import AlertChannel, Monitor

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class MonitorForm(forms.ModelForm):
    """A monitor of one of the client's endpoints, or of any URL on the client's domain."""

    class Meta:
        model = Monitor
        fields = ["name", "endpoint", "url", "interval_seconds", "timeout_seconds", "expected_status", "keyword",
                  "json_field"]
        labels = {"interval_seconds": "Interval (seconds)", "timeout_seconds": "Timeout (seconds)",
                  "json_field": "JSON field", "url": "URL"}
        help_texts = {"interval_seconds": "30 to 600 seconds; 60 is the default.",
                      "url": "Leave empty to use the chosen endpoint's URL."}

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.client = client
        self.fields["endpoint"].queryset = client.endpoints.all()
        self.fields["url"].required = False

    def clean(self):
        data = super().clean()
        endpoint = data.get("endpoint")
        if not data.get("url") and endpoint is not None:
            data["url"] = endpoint.url
            self.instance.url = endpoint.url
        if not data.get("url") and "url" not in self.errors:
            self.add_error("url", "Give a URL or choose an endpoint.")
        return data


class MonitorControlForm(forms.ModelForm):
    """What the founder may change: pause, and a maintenance window during which failures open no incident."""

    class Meta:
        model = Monitor
        fields = ["paused", "maintenance_start", "maintenance_end"]
        widgets = {"maintenance_start": DATETIME_INPUT, "maintenance_end": DATETIME_INPUT}
        help_texts = {"maintenance_start": "UTC.", "maintenance_end": "UTC."}

    def clean(self):
        data = super().clean()
        start, end = data.get("maintenance_start"), data.get("maintenance_end")
        if bool(start) != bool(end) and not self.errors:
            raise forms.ValidationError("Give both the start and the end of the maintenance window, or neither.")
        return data


class AlertChannelForm(forms.Form):
    kind = forms.ChoiceField(choices=AlertChannel.KINDS)
    name = forms.CharField(max_length=120)
    owner = forms.CharField(max_length=120, help_text="The person who acts on these alerts; named in every alert.")
    target = forms.CharField(max_length=500, label="Email address or webhook URL")
    secret = forms.CharField(max_length=200, required=False, label="Signing secret",
                             help_text="Webhooks only: the HMAC-SHA256 key the receiver checks signatures with.")

    def clean(self):
        data = super().clean()
        kind, target = data.get("kind"), data.get("target")
        if not kind or not target:
            return data
        if kind == AlertChannel.EMAIL:
            try:
                forms.EmailField().clean(target)
            except forms.ValidationError:
                self.add_error("target", "Enter a valid email address.")
            return data
        try:
            parts = urlsplit(target)
            host = parts.hostname
        except ValueError:
            parts, host = None, None
        if parts is None or parts.scheme not in ("http", "https") or not host or " " in target:
            self.add_error("target", "Enter the full https:// URL of the hook.")
        elif kind == AlertChannel.SLACK and parts.scheme != "https" and not _is_local(host):
            self.add_error("target", "Slack incoming webhooks are https:// URLs.")
        if kind == AlertChannel.WEBHOOK and not data.get("secret"):
            self.add_error("secret", "A webhook needs a signing secret so the receiver can trust it.")
        return data

    def save(self, client) -> AlertChannel:
        channel = AlertChannel(client=client, kind=self.cleaned_data["kind"], name=self.cleaned_data["name"],
                               owner=self.cleaned_data["owner"])
        channel.target = self.cleaned_data["target"]
        channel.secret = self.cleaned_data["secret"] if channel.kind == AlertChannel.WEBHOOK else ""
        channel.save()
        return channel


def _is_local(host: str | None) -> bool:
    # Loopback hooks exist only in the test world; the address guard refuses them in production anyway.
    return bool(host) and host.startswith("127.")

