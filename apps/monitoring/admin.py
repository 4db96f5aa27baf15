from django.contrib import admin

from .models import AlertAttempt, AlertChannel, Incident, Monitor, StatusPage


@admin.register(Monitor)
class MonitorAdmin(admin.ModelAdmin):
    list_display = ("name", "client", "url", "interval_seconds", "state", "paused", "next_due")
    list_filter = ("state", "paused", "enabled")
    search_fields = ("name", "url", "client__name")


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("monitor", "opened_at", "closed_at", "cause")


@admin.register(AlertChannel)
class AlertChannelAdmin(admin.ModelAdmin):
    # The encrypted columns stay out of the admin: secrets are not shown, even to staff.
    list_display = ("name", "client", "kind", "owner", "enabled", "verified_at")
    exclude = ("target_encrypted", "secret_encrypted")


@admin.register(AlertAttempt)
class AlertAttemptAdmin(admin.ModelAdmin):
    list_display = ("channel", "event", "number", "status", "permanent", "due_at", "error")
    list_filter = ("status", "event")


admin.site.register(StatusPage)
