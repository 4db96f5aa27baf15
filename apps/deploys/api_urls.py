from django.urls import path

from . import api

app_name = "deploys_api"

urlpatterns = [
    path("deploys", api.DeployCollection.as_view(), name="deploys"),
    path("deploys/<uuid:deploy_id>", api.DeployDetail.as_view(), name="deploy"),
    path("deploys/<uuid:deploy_id>/rollback", api.DeployRollback.as_view(), name="rollback"),
    path("clients/<uuid:client_id>/readiness", api.ClientReadiness.as_view(), name="readiness"),
]
