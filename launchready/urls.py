from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from apps.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("apps.tenants.urls")),
    path("clients/", include("apps.clients.urls")),
    path("sprints/", include("apps.sprints.urls")),
    path("checklists/", include("apps.checklists.urls")),
    path("scans/", include("apps.checks.urls")),
    path("", include("apps.billing.urls")),
    path("inbound/", include("apps.inbound.urls")),
    path("reports/", include("apps.reports.urls")),
    path("monitoring/", include("apps.monitoring.urls")),
    path("deploys/", include("apps.deploys.urls")),
    path("api/v1/", include("apps.deploys.api_urls")),
    path("api/", include("apps.deploys.schema_urls")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# A database that is down answers 503 with templates/503.html and Retry-After (docs/operations.md, "Faults").
handler500 = "apps.core.views.server_error"
