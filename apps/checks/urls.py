from django.urls import path

from . import views

app_name = "checks"

urlpatterns = [
    path("sprints/<uuid:sprint_id>/run/", views.run_for_sprint, name="run_for_sprint"),
    path("sprints/<uuid:sprint_id>/run-active/", views.run_active_for_sprint, name="run_active_for_sprint"),
    path("clients/<uuid:client_id>/", views.client_scans, name="client_scans"),
    path("clients/<uuid:client_id>/daily/", views.daily_rescan, name="daily_rescan"),
    path("<uuid:scanrun_id>/", views.scan_detail, name="detail"),
    path("<uuid:scanrun_id>/progress/", views.scan_progress, name="progress"),
    path("<uuid:scanrun_id>/diff/", views.scan_diff, name="diff"),
]
