from django.core.management import call_command

from apps.clients.models import Client
from apps.sprints.models import Sprint
from apps.tenants.models import ClientAccess, User, Workspace


def test_demo_loads_once_and_twice_changes_nothing(db):
    call_command("demo")
    counts = (User.objects.count(), Workspace.objects.count(), Client.objects.count(), Sprint.objects.count())
    call_command("demo")
    assert (User.objects.count(), Workspace.objects.count(), Client.objects.count(), Sprint.objects.count()) == counts
    assert counts == (3, 1, 2, 2)
    sprints = {s.status: s for s in Sprint.objects.all()}
    assert set(sprints) == {"active", "handed_over"}
    assert sprints["handed_over"].decision == "go"
    active_items = sprints["active"].items
    assert 0 < active_items.exclude(status="todo").count() < active_items.count()  # partly done
    founder_clients = ClientAccess.objects.filter(user__email="founder@novachat.lrtest")
    assert [a.client.name for a in founder_clients] == ["NovaChat"]
    assert all(c.network_profile == "testworld" for c in Client.objects.all())
