"""Client pages: the list, create/edit, the detail page and the generic inventory add/edit/delete views.

Every object comes through apps.tenants.access, so outsiders get 404 on every URL (GET and POST).
"""

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse

from apps.core import ratelimit
from apps.sprints.models import ActivityEntry
from apps.tenants.access import (
    CONSULTANT_ROLES,
    consultant_clients_of,
    get_client_child_for,
    get_client_for,
    workspaces_of,
)

from .forms import ClientForm, EmailSetupForm, EnvUploadForm, RepositoryForm
from .inventory import INVENTORIES, writable_by
from .models import RunbookStep

SPRINT_ROW_FIELDS = ("id", "client", "title", "status", "starts_at", "due_at", "decision")


def _client_page(client, anchor=""):
    return reverse("clients:detail", kwargs={"client_id": client.pk}) + (f"#{anchor}" if anchor else "")


def _post_data(request):
    return request.POST if request.method == "POST" else None


def _changed(form):
    """The changed fields in words, for the activity log: "environments, where stored"."""
    return ", ".join(str(form.fields[name].label or name).lower() for name in form.changed_data)


def _save(form):
    """form.save(), or None with a form error when a concurrent save won a uniqueness race."""
    try:
        with transaction.atomic():
            return form.save()
    except IntegrityError:
        form.add_error(None, "The same entry was saved a moment ago by someone else. Reload the page and check.")
        return None


@login_required
def client_list(request):
    """Consultants' clients across their workspaces. Founders have their portal instead."""
    workspaces = workspaces_of(request.user)
    if not workspaces.exists():
        return redirect("sprints:portal")
    clients = (
        consultant_clients_of(request.user)
        .select_related("workspace")
        .annotate(hostname_count=Count("hostnames", distinct=True), env_var_count=Count("env_vars", distinct=True))
        .prefetch_related("sprints")
        .order_by("workspace__name", "name")
    )
    return render(request, "clients/list.html", {
        "clients": clients, "several_workspaces": workspaces.count() > 1,
    })


@login_required
def client_create(request):
    workspaces = workspaces_of(request.user)
    if not workspaces.exists():
        raise Http404
    form = ClientForm(_post_data(request), workspaces=workspaces)
    if form.is_valid():
        client = form.save(commit=False)
        client.created_by = request.user
        client.save()
        client.get_email_setup()
        client.log(request.user, f"created client {client.name} ({client.domain})")
        messages.success(request, f"Client {client.name} created.")
        return redirect(_client_page(client))
    return render(request, "clients/form.html", {
        "form": form, "title": "New client", "submit": "Create client", "cancel_url": reverse("clients:list"),
    })


@login_required
def client_edit(request, client_id):
    client, _role = get_client_for(request, client_id, consultant=True)
    form = ClientForm(_post_data(request), instance=client)
    if form.is_valid():
        changed = _changed(form)
        form.save()
        if changed:
            client.log(request.user, f"changed client {client.name}: {changed}")
        messages.success(request, "Client saved.")
        return redirect(_client_page(client))
    return render(request, "clients/form.html", {
        "form": form, "client": client, "title": f"Edit {client.name}", "submit": "Save",
        "cancel_url": _client_page(client),
    })


@login_required
def client_detail(request, client_id):
    client, role = get_client_for(request, client_id)
    return render(request, "clients/detail.html", {
        "client": client,
        "role": role,
        "is_consultant": role in CONSULTANT_ROLES,
        "writable": writable_by(role),
        "inventories": INVENTORIES,
        "hostnames": client.hostnames.all(),
        "endpoints": client.endpoints.all(),
        "email_setup": client.get_email_setup(),
        "env_vars": client.env_vars.all(),
        "vendor_accounts": client.vendor_accounts.all(),
        "runbooks": _runbooks(client),
        "owners": client.owners.all(),
        # only the columns the tables show (a deferred column read would be a query per row)
        "sprints": client.sprints.only(*SPRINT_ROW_FIELDS),
        "activity": client.activity.filter(sprint=None).select_related("actor").only(*ActivityEntry.ROW_FIELDS)[:15],
    })


def _runbooks(client):
    """[(kind, label, steps)] for each kind of runbook, from one query."""
    steps = {kind: [] for kind, _ in RunbookStep.KINDS}
    for step in client.runbook_steps.all():
        steps.setdefault(step.kind, []).append(step)
    return [(kind, label, steps[kind]) for kind, label in RunbookStep.KINDS]


@login_required
def emailsetup_edit(request, client_id):
    client, _role = get_client_for(request, client_id, consultant=True)
    form = EmailSetupForm(_post_data(request), instance=client.get_email_setup())
    if form.is_valid():
        form.save()
        if form.changed_data:
            client.log(request.user, "changed the email setup (approved SPF senders, DKIM selectors)")
        messages.success(request, "Email setup saved.")
        return redirect(_client_page(client, "email"))
    return render(request, "clients/form.html", {
        "form": form, "client": client, "title": f"Email setup of {client.name}", "submit": "Save",
        "cancel_url": _client_page(client, "email"),
    })


# --- the inventories: one add/edit/delete path driven by apps.clients.inventory.INVENTORIES ---------------------
def _initial_choices(request, form_class):
    """Preselect choice fields from the query string (?kind=rollback), accepting only valid choices."""
    initial = {}
    for name, field in form_class.base_fields.items():
        value = request.GET.get(name)
        if value and isinstance(field, django_forms.ChoiceField) and value in dict(field.choices):
            initial[name] = value
    return initial


@login_required
def inventory_add(request, client_id, kind):
    inventory = INVENTORIES[kind]
    client, _role = get_client_for(request, client_id, consultant=not inventory.founders_write)
    form = inventory.form(_post_data(request), client=client, initial=_initial_choices(request, inventory.form))
    if form.is_valid() and (obj := _save(form)):
        client.log(request.user, f"added {form.describe(obj)}")
        messages.success(request, f"Added {form.describe(obj)}.")
        return redirect(_client_page(client, inventory.plural))
    return render(request, "clients/form.html", {
        "form": form, "client": client, "title": f"Add {inventory.title}", "submit": "Add",
        "cancel_url": _client_page(client, inventory.plural),
    })


@login_required
def inventory_edit(request, kind, **ids):
    inventory = INVENTORIES[kind]
    obj, _role = get_client_child_for(request, inventory.model, ids[f"{kind}_id"],
                                      consultant=not inventory.founders_write)
    client = obj.client
    form = inventory.form(_post_data(request), instance=obj, client=client)
    saved = None
    if form.is_valid():
        changed = _changed(form)
        saved = _save(form)
    if saved:
        if changed:
            client.log(request.user, f"changed {form.describe(saved)}: {changed}")
        messages.success(request, f"Saved {form.describe(saved)}.")
        return redirect(_client_page(client, inventory.plural))
    return render(request, "clients/form.html", {
        "form": form, "client": client, "title": f"Edit {inventory.title}", "submit": "Save",
        "cancel_url": _client_page(client, inventory.plural),
        "delete_url": reverse(f"clients:{kind}_delete", kwargs={f"{kind}_id": obj.pk}),
    })


@login_required
def inventory_delete(request, kind, **ids):
    inventory = INVENTORIES[kind]
    # Access first: outsiders get 404 whatever the method, members 405 on GET.
    obj, _role = get_client_child_for(request, inventory.model, ids[f"{kind}_id"],
                                      consultant=not inventory.founders_write)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    client, description = obj.client, inventory.form.describe(obj)
    obj.delete()
    client.log(request.user, f"removed {description}")
    messages.success(request, f"Removed {description}.")
    return redirect(_client_page(client, inventory.plural))


# --- active checks: ownership, env-name uploads, the repository ------------------------------------------------
# "Verify now" fetches from the client's domain inside the request: a few tries a minute per client are plenty.
VERIFY_PER_MINUTE = 5


@login_required
def verify_ownership(request, client_id):
    """"Verify now": look for the client's token in DNS and at the well-known URL, and record what was found."""
    client, _role = get_client_for(request, client_id, consultant=True)  # access first: outsiders 404 on GET too
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not ratelimit.allow("verify-ownership", str(client.pk), limit=VERIFY_PER_MINUTE, window=60):
        messages.error(request, "Verification was tried several times this minute: wait a minute, then try again.")
        return redirect(_client_page(client, "ownership"))
    try:
        result = client.verify_ownership()
    except ImproperlyConfigured as exc:
        messages.error(request, f"Verification could not run: {exc}")
        return redirect(_client_page(client, "ownership"))
    if result.verified:
        client.log(request.user, f"verified ownership of {client.domain} ({result.method})")
        messages.success(request, result.reason)
    else:
        client.log(request.user, f"tried to verify ownership of {client.domain}: not verified")
        messages.error(request, result.reason)
    return redirect(_client_page(client, "ownership"))


@login_required
def env_upload(request, client_id):
    client, _role = get_client_for(request, client_id, consultant=True)
    form = EnvUploadForm(_post_data(request), request.FILES or None)
    if form.is_valid():
        from apps.checks.envfile import record_env_names

        names, environment = form.cleaned_data["env_file"], form.cleaned_data["environment"]
        changes = record_env_names(client, environment, names)
        client.log(request.user, f"uploaded {len(names)} env var name(s) for {environment}")
        messages.success(request, f"Read {len(names)} name(s) for {environment}: {len(changes['created'])} new, "
                                  f"{len(changes['updated'])} updated. Values were discarded.")
        return redirect(_client_page(client, "env-vars"))
    return render(request, "clients/form.html", {
        "form": form, "client": client, "title": f"Upload env var names for {client.name}", "submit": "Upload",
        "cancel_url": _client_page(client, "env-vars"), "multipart": True,
    })


@login_required
def repository_edit(request, client_id):
    client, _role = get_client_for(request, client_id, consultant=True)
    old_file = client.repo_upload.name if client.repo_upload else ""
    form = RepositoryForm(_post_data(request), request.FILES or None, instance=client)
    if form.is_valid():
        new_upload = "repo_upload" in request.FILES
        if form.cleaned_data.get("remove_upload") and not new_upload:
            client.forget_repo_upload()
        if new_upload:
            client.repo_upload_name = request.FILES["repo_upload"].name[:200]
        form.save()
        if new_upload and old_file:
            client.repo_upload.storage.delete(old_file)  # only the current upload is kept
        client.log(request.user, "changed the repository for secret scanning")
        messages.success(request, "Repository saved: the next scan looks for secrets in it.")
        return redirect(_client_page(client, "repository"))
    return render(request, "clients/form.html", {
        "form": form, "client": client, "title": f"Repository of {client.name}", "submit": "Save",
        "cancel_url": _client_page(client, "repository"), "multipart": True,
    })
