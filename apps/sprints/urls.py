from django.urls import path

from . import views

app_name = "sprints"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("portal/", views.portal, name="portal"),
]
