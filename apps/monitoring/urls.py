from django.urls import path

from . import views

app_name = "monitoring"

urlpatterns = [
    path("clients/<uuid:client_id>/", views.operations, name="operations"),
    path("clients/<uuid:client_id>/monitors/add/", views.monitor_add, name="monitor_add"),
    path("clients/<uuid:client_id>/channels/add/", views.channel_add, name="channel_add"),
    path("clients/<uuid:client_id>/status-page/", views.status_page_toggle, name="status_page_toggle"),
    path("monitors/<uuid:monitor_id>/edit/", views.monitor_edit, name="monitor_edit"),
    path("monitors/<uuid:monitor_id>/control/", views.monitor_control, name="monitor_control"),
    path("channels/<uuid:alertchannel_id>/test/", views.channel_test, name="channel_test"),
    path("status/<str:token>/", views.status_page, name="status_page"),
]
