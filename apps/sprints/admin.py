from django.contrib import admin

from .models import ActivityEntry, Sprint


@admin.register(Sprint)
class SprintAdmin(admin.ModelAdmin):
    list_display = ["client", "title", "status", "decision", "starts_at", "due_at"]
    list_filter = ["status", "decision"]
    raw_id_fields = ["client", "template", "decided_by", "created_by"]


@admin.register(ActivityEntry)
class ActivityEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "client", "sprint", "actor", "text"]
    raw_id_fields = ["client", "sprint", "actor"]
