"""`python manage.py rotate_encryption_keys`: re-encrypt every stored channel secret with the first key.

Run it after putting a new key first in MONITORING_ENCRYPTION_KEYS (or after moving SECRET_KEY to
SECRET_KEY_FALLBACKS when no keys are configured); afterwards the old key can be removed. Safe to run again.
Prints counts only, never a value.
"""

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.monitoring.crypto import reencrypt
from apps.monitoring.models import AlertChannel


class Command(BaseCommand):
    help = "Re-encrypt alert-channel secrets with the first of MONITORING_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        rotated, unreadable = 0, []
        with transaction.atomic():
            for channel in AlertChannel.objects.select_for_update().only("pk", "target_encrypted", "secret_encrypted"):
                try:
                    target = reencrypt(channel.target_encrypted)
                    secret = reencrypt(channel.secret_encrypted) if channel.secret_encrypted else ""
                except InvalidToken:
                    unreadable.append(str(channel.pk))
                    continue
                AlertChannel.objects.filter(pk=channel.pk).update(target_encrypted=target, secret_encrypted=secret)
                rotated += 1
        self.stdout.write(f"re-encrypted {rotated} alert channel(s) with the current key")
        if unreadable:
            raise CommandError(f"{len(unreadable)} channel(s) could not be decrypted with any configured key "
                               f"(was an old key removed too early?): {', '.join(unreadable)}")
