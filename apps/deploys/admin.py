from django.contrib import admin

from .models import Deploy, DeployToken


@admin.register(DeployToken)
class DeployTokenAdmin(admin.ModelAdmin):
    list_display = ["token_hint", "client", "environment", "label", "last_used_at", "revoked_at"]
    readonly_fields = ["token_hash", "token_hint"]


@admin.register(Deploy)
class DeployAdmin(admin.ModelAdmin):
    list_display = ["client", "kind", "environment", "version", "verdict", "created_at"]
    list_filter = ["verdict", "kind", "environment"]
