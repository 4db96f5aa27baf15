"""Deployment system checks of our own (`manage.py check --deploy`), next to Django's security.* ones."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def launch_ready_deploy_checks(app_configs, **kwargs):
    found = []
    if not getattr(settings, "MONITORING_ENCRYPTION_KEYS", []):
        found.append(Warning(
            "MONITORING_ENCRYPTION_KEYS is not set: alert-channel secrets are encrypted with a key derived from "
            "SECRET_KEY, so they become unreadable if SECRET_KEY is ever replaced without a fallback.",
            hint="Set MONITORING_ENCRYPTION_KEYS to a Fernet key (python -c 'from cryptography.fernet import Fernet; "
                 "print(Fernet.generate_key().decode())'), then run `manage.py rotate_encryption_keys`.",
            id="launchready.W001"))
    if not getattr(settings, "CONTENT_SECURITY_POLICY", ""):
        found.append(Warning(
            "CONTENT_SECURITY_POLICY is empty: the app sends no Content-Security-Policy header.",
            hint="Unset it to get the default policy (apps/core/csp.py), unless a CDN in front sets one.",
            id="launchready.W002"))
    return found
