from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("s/<slug:workspace_slug>/", views.storefront, name="storefront"),
    path("score/<str:token>/", views.score, name="score"),
    path("billing/success/", views.checkout_success, name="success"),
    path("billing/webhook/", views.webhook, name="webhook"),
    path("billing/workspaces/<uuid:workspace_id>/leads/", views.lead_list, name="leads"),
    path("billing/orders/<uuid:scoreorder_id>/convert/", views.convert_lead, name="convert"),
]
