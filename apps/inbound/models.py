"""A delivery test: a unique inbound address per request, and what the SMTP receiver saw when the mail arrived."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.models import PublicModel

ARRIVAL_BAR_MINUTES = 5  # the roadmap's bar: the founder's email arrives within five minutes
OPEN_FOR = timedelta(hours=24)  # an address nobody used for a day stops accepting mail (it may have leaked)


def new_token() -> str:
    return secrets.token_hex(12)  # 96 bits: unguessable, and safe in an email local part


class DeliveryTestQuerySet(models.QuerySet):
    def open(self, now=None):
        """Tests still waiting for their message: not arrived and requested less than OPEN_FOR ago."""
        return self.filter(arrived_at=None, requested_at__gt=(now or timezone.now()) - OPEN_FOR)


class DeliveryTest(PublicModel):
    """Only the verdict and the headers are kept; the body is never stored."""

    sprint = models.ForeignKey("sprints.Sprint", on_delete=models.CASCADE, related_name="delivery_tests")
    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    requested_at = models.DateTimeField(default=timezone.now)
    arrived_at = models.DateTimeField(null=True, blank=True)
    envelope_sender = models.CharField(max_length=320, blank=True)
    connecting_ip = models.GenericIPAddressField(null=True, blank=True)
    headers = models.JSONField(default=list, blank=True)  # [[name, value], ...] in message order
    verdict = models.JSONField(default=dict, blank=True)  # spf, dkim, dmarc, minutes_to_arrive

    objects = DeliveryTestQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self):
        return self.address

    @property
    def address(self) -> str:
        return f"check-{self.token}@{settings.INBOUND_EMAIL_DOMAIN}"

    @classmethod
    def token_from_address(cls, address: str) -> str | None:
        local, at, domain = address.strip().strip("<>").rpartition("@")
        if not at or domain.lower().rstrip(".") != settings.INBOUND_EMAIL_DOMAIN.lower():
            return None
        local = local.lower()
        if not local.startswith("check-") or not local[6:].isalnum():
            return None
        return local[6:]

    @classmethod
    def request_for(cls, sprint) -> tuple[DeliveryTest, bool]:
        """(test, created): the sprint's open test if there is one (pressing twice gives one address), else a new one."""
        test = cls.objects.open().filter(sprint=sprint).first()
        return (test, False) if test else (cls.objects.create(sprint=sprint), True)

    @property
    def arrived(self) -> bool:
        return self.arrived_at is not None

    @property
    def expires_at(self):
        return self.requested_at + OPEN_FOR

    @property
    def expired(self) -> bool:
        return not self.arrived and timezone.now() >= self.expires_at

    @property
    def state(self) -> str:
        return "arrived" if self.arrived else "expired" if self.expired else "waiting"

    def minutes_to_arrive(self, at=None) -> float:
        return round(((at or self.arrived_at) - self.requested_at).total_seconds() / 60, 2)

    def record_arrival(self, *, envelope_sender: str, connecting_ip: str, headers, verdict: dict, at=None) -> bool:
        """Claims the test by a conditional UPDATE, so a second message to the same address changes nothing."""
        at = at or timezone.now()
        verdict = {**verdict, "minutes_to_arrive": self.minutes_to_arrive(at)}
        changed = DeliveryTest.objects.filter(pk=self.pk, arrived_at=None).update(
            arrived_at=at, envelope_sender=envelope_sender[:320], connecting_ip=connecting_ip,
            headers=[list(h) for h in headers], verdict=verdict)
        if changed:
            self.arrived_at, self.envelope_sender, self.connecting_ip = at, envelope_sender[:320], connecting_ip
            self.headers, self.verdict = [list(h) for h in headers], verdict
        return bool(changed)
