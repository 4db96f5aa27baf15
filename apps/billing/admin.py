from django.contrib import admin

from .models import ScoreOrder, StripeEvent


@admin.register(ScoreOrder)
class ScoreOrderAdmin(admin.ModelAdmin):
    list_display = ("domain", "email", "workspace", "state", "amount", "currency", "created_at", "paid_at")
    list_filter = ("state", "workspace")
    search_fields = ("domain", "email", "checkout_session_id", "payment_intent_id")
    # State changes go through fulfilment (forward-only); the admin reads.
    readonly_fields = ("state", "checkout_session_id", "payment_intent_id", "access_token", "scan", "paid_at",
                       "refunded_at", "amount", "currency", "converted_client")


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ("event_id", "type", "received_at", "processed_at", "attempts", "last_error")
    list_filter = ("type",)
    search_fields = ("event_id",)
    readonly_fields = ("event_id", "type", "payload", "received_at", "processed_at", "attempts", "last_error")
