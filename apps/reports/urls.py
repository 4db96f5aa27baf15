from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("sprints/<uuid:sprint_id>/handover/", views.handover, name="handover"),
    path("sprints/<uuid:sprint_id>/handover/preview/", views.preview, name="preview"),
    path("sprints/<uuid:sprint_id>/handover/generate/", views.generate, name="generate"),
    path("packs/<uuid:handoverpack_id>/issue/", views.issue, name="issue"),
    path("packs/<uuid:handoverpack_id>/download/", views.download, name="download"),
    path("scans/<uuid:scanrun_id>/readiness.pdf", views.readiness_report, name="readiness"),
    path("score/<str:token>/readiness.pdf", views.score_pdf, name="score_pdf"),
]
