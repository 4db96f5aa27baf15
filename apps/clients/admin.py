from django.contrib import admin

from .models import Client, EmailSetup, Endpoint, EnvVar, Hostname, Owner, RunbookStep, VendorAccount


class ClientChildInline(admin.TabularInline):
    extra = 0


class HostnameInline(ClientChildInline):
    model = Hostname


class EndpointInline(ClientChildInline):
    model = Endpoint


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "workspace", "network_profile", "created_at"]
    list_filter = ["network_profile"]
    search_fields = ["name", "domain"]
    raw_id_fields = ["workspace", "created_by"]
    inlines = [HostnameInline, EndpointInline]


for model, columns in [
    (Hostname, ["name", "role", "client"]),
    (Endpoint, ["kind", "url", "method", "client"]),
    (EmailSetup, ["client"]),
    (EnvVar, ["name", "client", "required", "secret", "rotation_due"]),
    (VendorAccount, ["vendor", "owner", "two_factor", "client"]),
    (RunbookStep, ["kind", "position", "text", "last_tested", "client"]),
    (Owner, ["area", "person", "client"]),
]:
    admin.site.register(model, list_display=columns, raw_id_fields=["client"])
