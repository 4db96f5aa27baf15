from django.urls import path

from . import views

app_name = "inbound"

urlpatterns = [
    path("sprints/<uuid:sprint_id>/delivery-test/", views.request_test, name="request"),
    path("delivery-tests/<uuid:deliverytest_id>/", views.test_panel, name="test"),
]
