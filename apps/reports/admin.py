from django.contrib import admin

from .models import HandoverPack


@admin.register(HandoverPack)
class HandoverPackAdmin(admin.ModelAdmin):
    list_display = ["sprint", "version", "state", "generated_at", "issued_at", "sha256"]
    list_filter = ["state"]
    readonly_fields = [f.name for f in HandoverPack._meta.fields]
