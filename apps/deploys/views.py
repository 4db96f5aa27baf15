"""Screens of the deploy gate: deploy tokens on the client's page (consultants only) and the API's browsable page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from apps.tenants.access import get_client_child_for, get_client_for

from .forms import DeployTokenForm
from .models import DeployToken


def _client_section(client):
    return reverse("clients:detail", kwargs={"client_id": client.pk}) + "#deploys"


@login_required
def token_create(request, client_id):
    client, _role = get_client_for(request, client_id, consultant=True)
    form = DeployTokenForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        token, raw = DeployToken.issue(client=client, environment=form.cleaned_data["environment"],
                                       label=form.cleaned_data["label"], created_by=request.user)
        response = render(request, "deploys/token_created.html", {"client": client, "token": token, "raw": raw})
        response["Cache-Control"] = "no-store"  # the only time the value exists: keep it out of caches
        return response
    return render(request, "deploys/token_form.html", {"client": client, "form": form,
                                                        "cancel_url": _client_section(client)})


@login_required
def token_revoke(request, deploytoken_id):
    token, _role = get_client_child_for(request, DeployToken, deploytoken_id, consultant=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if token.revoke(request.user):
        messages.success(request, f"Deploy token {token.token_hint}… revoked: CI calls with it now fail.")
    return redirect(_client_section(token.client))


def api_docs(request):
    """The API reference as a plain page, rendered from the same generated OpenAPI schema as /api/schema/."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [
        {"method": method.upper(), "path": path, **operation}
        for path, methods in schema.get("paths", {}).items() for method, operation in methods.items()
    ]
    return render(request, "deploys/api_docs.html", {"schema": schema, "operations": operations,
                                                      "schema_url": reverse("api:schema")})
