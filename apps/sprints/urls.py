from django.urls import path

from . import views

app_name = "sprints"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("portal/", views.portal, name="portal"),
    path("new/<uuid:client_id>/", views.sprint_new, name="new"),
    path("<uuid:sprint_id>/", views.sprint_detail, name="detail"),
    path("<uuid:sprint_id>/decision/", views.decision, name="decision"),
    path("<uuid:sprint_id>/status/", views.status, name="status"),
    path("items/<uuid:sprintitem_id>/", views.item_row, name="item"),
    path("items/<uuid:sprintitem_id>/edit/", views.item_edit, name="item_edit"),
]
