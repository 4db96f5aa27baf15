from django.contrib import admin

from .models import DeliveryTest


@admin.register(DeliveryTest)
class DeliveryTestAdmin(admin.ModelAdmin):
    list_display = ("address", "sprint", "requested_at", "arrived_at", "connecting_ip")
    readonly_fields = ("token", "arrived_at", "envelope_sender", "connecting_ip", "headers", "verdict")
    list_select_related = ("sprint",)
