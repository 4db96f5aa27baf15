"""Self-serve readiness-score orders paid through Stripe Checkout, and the Stripe events we received.

An order's state only moves forward (see ScoreOrder.RANK): every change is a conditional UPDATE that names the
states it may leave, so webhooks arriving late, twice or out of order can never move an order backwards.
"""

import secrets

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from apps.core.domains import DomainError, normalize_domain, to_unicode
from apps.core.models import PublicModel


def new_access_token() -> str:
    # 256 bits of randomness: the score page's only credential.
    return secrets.token_urlsafe(32)


class ScoreOrder(PublicModel):
    CREATED, PAID, SCANNING, DONE, FAILED, REFUNDED = "created", "paid", "scanning", "done", "failed", "refunded"
    STATES = [(CREATED, "Awaiting payment"), (PAID, "Paid"), (SCANNING, "Scanning"), (DONE, "Done"),
              (FAILED, "Failed"), (REFUNDED, "Refunded")]
    # Forward order of states; a move is allowed only to a higher rank. done and failed are both final outcomes;
    # a refund can follow either (the report stays, marked refunded).
    RANK = {CREATED: 0, PAID: 1, SCANNING: 2, DONE: 3, FAILED: 3, REFUNDED: 4}

    workspace = models.ForeignKey("tenants.Workspace", on_delete=models.CASCADE, related_name="score_orders",
                                  help_text="Whose self-serve page sold it; its consultants see it as a lead.")
    domain = models.CharField(max_length=253, help_text="IDNA A-labels, validated by normalize_domain.")
    email = models.EmailField(max_length=254)
    amount = models.PositiveIntegerField(help_text="Price in the currency's minor unit, decided by settings.")
    currency = models.CharField(max_length=3)
    checkout_session_id = models.CharField(max_length=255, blank=True, db_index=True)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    state = models.CharField(max_length=9, choices=STATES, default=CREATED)
    access_token = models.CharField(max_length=64, unique=True, default=new_access_token, editable=False)
    scan = models.ForeignKey("checks.ScanRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    scan_attempts = models.PositiveSmallIntegerField(default=0, help_text="Scans started for this order.")
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    converted_client = models.ForeignKey("clients.Client", null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "-created_at"])]

    def __str__(self):
        return f"score for {self.domain} ({self.state})"

    @property
    def domain_unicode(self):
        return to_unicode(self.domain)

    @property
    def price_display(self):
        return f"{self.amount / 100:.2f} {self.currency.upper()}"

    @classmethod
    def clean_domain(cls, text: str) -> str:
        """The domain as stored, or DomainError: IP addresses and private names are refused."""
        name = normalize_domain(text)
        last = name.rsplit(".", 1)[-1]
        if last in PRIVATE_SUFFIXES or name in PRIVATE_SUFFIXES:
            raise DomainError("Enter a public domain name; local and private names cannot be scanned.")
        return name

    def advance(self, state: str, **fields) -> bool:
        """Move to `state` only from a lower-ranked state (one conditional UPDATE); True when this call moved it."""
        earlier = [s for s, rank in self.RANK.items() if rank < self.RANK[state]]
        moved = ScoreOrder.objects.filter(pk=self.pk, state__in=earlier).update(state=state, **fields)
        if moved:
            self.state = state
            for name, value in fields.items():
                setattr(self, name, value)
        return bool(moved)

    def sync_with_scan(self) -> None:
        """A scanning order becomes done once its scan finishes (checked lazily when it is looked at); a failed
        scan (nothing measured) is started again, or fails the order after the last attempt."""
        from apps.checks.models import ScanRun

        if self.state != self.SCANNING or self.scan is None:
            return
        if self.scan.state == ScanRun.DONE:
            self.advance(self.DONE)
        elif self.scan.state == ScanRun.FAILED:
            from .fulfilment import rescan_or_fail

            rescan_or_fail(self)


# Names that never resolve on the public internet (RFC 6761/6762/8375, common internal suffixes).
PRIVATE_SUFFIXES = {"localhost", "local", "localdomain", "internal", "intranet", "lan", "home", "corp", "private",
                    "test", "example", "invalid", "onion", "arpa", "home.arpa"}


class StripeEvent(models.Model):
    """One row per Stripe event id: the unique constraint is what makes a replayed delivery a no-op."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Failed processing attempts by the periodic catch-up, and why the last one failed (for the admin).
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.type} {self.event_id}"

    @classmethod
    def record(cls, event: dict, on_recorded) -> bool:
        """Store the event and call on_recorded(row) in the same transaction; False (and nothing else happens)
        when the event id was seen before."""
        with transaction.atomic():
            try:
                with transaction.atomic():
                    row = cls.objects.create(event_id=str(event["id"])[:255], type=str(event.get("type", ""))[:100],
                                             payload=event)
            except IntegrityError:
                return False
            on_recorded(row)
        return True
