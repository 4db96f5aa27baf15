"""The one scoping path for tenant data (healthchecks style).

Every view fetches tenant objects through these helpers. They return the object and the viewer's role,
or raise Http404 for anybody outside — never 403, so outsiders cannot probe which ids exist.

Roles: "owner" / "consultant" (members of the client's workspace) and "founder" (ClientAccess to the client).
"""

from typing import NamedTuple

from django.db import connection
from django.db.models import Q
from django.http import Http404

from apps.checklists.models import ChecklistTemplate, TemplateItem, TemplateStage
from apps.clients.models import Client
from apps.sprints.models import Sprint

from .models import ClientAccess, Invitation, Membership, Workspace

CONSULTANT_ROLES = ("owner", "consultant")


def _one(queryset):
    """The row a filter on a unique column matched, or None: .first() without its ORDER BY, which costs a quarter
    of compiling such a query and orders at most one row (docs/performance.md, round 6)."""
    return next(iter(queryset.order_by()[:1]), None)


def _user(request):
    user = request.user
    if not user.is_authenticated:
        raise Http404
    return user


class Roles(NamedTuple):
    consultant: bool  # a member of at least one workspace
    founder: bool  # given access to at least one client


def user_roles(request):
    """Roles(consultant, founder) of the signed-in user, read once per request with one query (the navigation of
    every page shows both; the dashboard asks first). Anonymous: neither."""
    if not hasattr(request, "_user_roles"):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            request._user_roles = Roles(False, False)
        else:
            quote = connection.ops.quote_name
            with connection.cursor() as cursor:
                # Two EXISTS in one round trip: cheaper than two ORM .exists() (docs/performance.md).
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(Membership._meta.db_table)} WHERE user_id = %s), "
                               f"EXISTS (SELECT 1 FROM {quote(ClientAccess._meta.db_table)} WHERE user_id = %s)",
                               [user.pk, user.pk])
                consultant, founder = cursor.fetchone()
            request._user_roles = Roles(bool(consultant), bool(founder))
    return request._user_roles


def workspaces_of(user):
    return Workspace.objects.filter(memberships__user=user)


def clients_of(user):
    """Every client the user may see: all clients of their workspaces plus clients they are founder of."""
    return Client.objects.filter(
        Q(workspace__in=Workspace.objects.filter(memberships__user=user).values("pk"))
        | Q(pk__in=ClientAccess.objects.filter(user=user).values("client_id"))
    )


def consultant_clients_of(user):
    return Client.objects.filter(workspace__in=Workspace.objects.filter(memberships__user=user).values("pk"))


def role_for_workspace(user, workspace_id):
    membership = _one(Membership.objects.filter(user=user, workspace_id=workspace_id).only("role"))
    return membership.role if membership else None


def role_for_client(user, client):
    role = role_for_workspace(user, client.workspace_id)
    if role:
        return role
    if ClientAccess.objects.filter(user=user, client=client).exists():
        return "founder"
    return None


def get_workspace_for(request, workspace_id, *, owner=False):
    """(workspace, role) for a member; owner=True admits owners only."""
    user = _user(request)
    workspace = _one(Workspace.objects.filter(pk=workspace_id))
    role = role_for_workspace(user, workspace_id) if workspace else None
    if role is None or (owner and role != "owner"):
        raise Http404
    return workspace, role


def get_client_for(request, client_id, *, consultant=False):
    """(client, role). consultant=True: founders get 404 too (consultant-only pages)."""
    user = _user(request)
    client = _one(Client.objects.select_related("workspace").filter(pk=client_id))
    role = role_for_client(user, client) if client else None
    if role is None or (consultant and role not in CONSULTANT_ROLES):
        raise Http404
    return client, role


def get_sprint_for(request, sprint_id, *, consultant=False):
    """(sprint, role), scoped through the sprint's client."""
    user = _user(request)
    sprint = _one(Sprint.objects.select_related("client", "client__workspace").filter(pk=sprint_id))
    role = role_for_client(user, sprint.client) if sprint else None  # the client came with the sprint
    if role is None or (consultant and role not in CONSULTANT_ROLES):
        raise Http404
    return sprint, role


def get_client_child_for(request, model, pk, *, consultant=False):
    """(obj, role) for a row with a `client` foreign key (inventories, hostnames, endpoints …)."""
    obj = _one(model.objects.select_related("client").filter(pk=pk))
    if obj is None:
        raise Http404
    _, role = get_client_for(request, obj.client_id, consultant=consultant)
    return obj, role


def get_sprint_child_for(request, model, pk, *, consultant=False):
    """(obj, role) for a row with a `sprint` foreign key (checklist items …)."""
    obj = _one(model.objects.select_related("sprint", "sprint__client").filter(pk=pk))
    if obj is None:
        raise Http404
    _, role = get_client_for(request, obj.sprint.client_id, consultant=consultant)
    return obj, role


def get_invitation_for(request, invitation_id, *, owner=False):
    """(invitation, role) for a member of the invitation's workspace; owner=True admits owners only."""
    user = _user(request)
    invitation = _one(Invitation.objects.select_related("workspace", "client").filter(pk=invitation_id))
    role = role_for_workspace(user, invitation.workspace_id) if invitation else None
    if role is None or (owner and role != "owner"):
        raise Http404
    return invitation, role


def founder_clients_of(user):
    """Only the clients the user was given founder access to (the founder portal's scope)."""
    return Client.objects.filter(pk__in=ClientAccess.objects.filter(user=user).values("client_id"))


def templates_of(user):
    """Checklist templates a consultant may use: the system roadmap(s) plus their workspaces' own."""
    return ChecklistTemplate.objects.filter(
        Q(workspace=None) | Q(workspace__in=Workspace.objects.filter(memberships__user=user).values("pk"))
    )


def get_template_for(request, checklisttemplate_id, *, editable=False):
    """(template, role). System templates: any workspace member reads them (role "consultant"), nobody edits
    them through the product (editable=True → 404). Workspace templates: members of that workspace only."""
    user = _user(request)
    template = _one(ChecklistTemplate.objects.select_related("workspace").filter(pk=checklisttemplate_id))
    if template is None:
        raise Http404
    if template.workspace_id is None:
        if editable or not Membership.objects.filter(user=user).exists():
            raise Http404
        return template, "consultant"
    role = role_for_workspace(user, template.workspace_id)
    if role is None:
        raise Http404
    return template, role


def get_template_stage_for(request, templatestage_id):
    """(stage, role) of an editable (workspace) template."""
    stage = _one(TemplateStage.objects.select_related("template").filter(pk=templatestage_id))
    if stage is None:
        raise Http404
    template, role = get_template_for(request, stage.template_id, editable=True)
    stage.template = template
    return stage, role


def get_template_item_for(request, templateitem_id):
    """(item, role) of an editable (workspace) template."""
    item = _one(TemplateItem.objects.select_related("stage").filter(pk=templateitem_id))
    if item is None:
        raise Http404
    template, role = get_template_for(request, item.stage.template_id, editable=True)
    item.stage.template = template
    return item, role


def get_scan_for(request, scanrun_id):
    """(scan, role) for a scan of a client the user may see. Self-serve scans (no client) are not reachable here."""
    from apps.checks.models import ScanRun

    scan = _one(ScanRun.objects.select_related("client", "sprint").filter(pk=scanrun_id, client__isnull=False))
    if scan is None:
        raise Http404
    _, role = get_client_for(request, scan.client_id)
    return scan, role


def get_storefront(workspace_slug):
    """The workspace whose public self-serve page this is (no login: the page sells to anyone), or 404."""
    workspace = _one(Workspace.objects.filter(slug=workspace_slug))
    if workspace is None:
        raise Http404
    return workspace


def get_scoreorder_for(request, scoreorder_id):
    """(order, role) for a consultant of the workspace whose self-serve page sold it; 404 for anybody else."""
    from apps.billing.models import ScoreOrder

    user = _user(request)
    order = _one(ScoreOrder.objects.select_related("workspace", "scan").filter(pk=scoreorder_id))
    role = role_for_workspace(user, order.workspace_id) if order else None
    if role not in CONSULTANT_ROLES:
        raise Http404
    return order, role


def get_score_by_token(token):
    """The buyer's order by its unguessable access token (the token is the credential), or 404."""
    from apps.billing.models import ScoreOrder

    order = _one(ScoreOrder.objects.select_related("workspace", "scan").filter(access_token=token)) \
        if token and len(token) >= 32 else None
    if order is None:
        raise Http404
    return order
