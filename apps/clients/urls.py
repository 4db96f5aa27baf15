from django.urls import path

from . import views
from .inventory import INVENTORIES

app_name = "clients"

urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_create, name="create"),
    path("<uuid:client_id>/", views.client_detail, name="detail"),
    path("<uuid:client_id>/edit/", views.client_edit, name="edit"),
    path("<uuid:client_id>/email/edit/", views.emailsetup_edit, name="emailsetup_edit"),
    path("<uuid:client_id>/verify/", views.verify_ownership, name="verify_ownership"),
    path("<uuid:client_id>/env-vars/upload/", views.env_upload, name="env_upload"),
    path("<uuid:client_id>/repository/", views.repository_edit, name="repository_edit"),
]

# clients:hostname_add, clients:hostname_edit, clients:hostname_delete, … one trio per inventory.
for key, inventory in INVENTORIES.items():
    urlpatterns += [
        path(f"<uuid:client_id>/{inventory.plural}/add/", views.inventory_add, {"kind": key}, name=f"{key}_add"),
        path(f"{inventory.plural}/<uuid:{key}_id>/edit/", views.inventory_edit, {"kind": key}, name=f"{key}_edit"),
        path(f"{inventory.plural}/<uuid:{key}_id>/delete/", views.inventory_delete, {"kind": key},
             name=f"{key}_delete"),
    ]
