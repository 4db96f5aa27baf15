from django.contrib import admin

from .models import WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("hostname", "queue", "last_seen", "beats")
    readonly_fields = ("hostname", "queue", "last_seen", "beats")
