from django.urls import path

from . import views

app_name = "deploys"

urlpatterns = [
    path("clients/<uuid:client_id>/tokens/new/", views.token_create, name="token_create"),
    path("tokens/<uuid:deploytoken_id>/revoke/", views.token_revoke, name="token_revoke"),
]
