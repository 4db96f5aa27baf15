"""Shared fixtures: the healthchecks-style cast.

alice owns workspace "Acme Advisory", bob is a consultant there, charlie owns another workspace,
fiona is the founder of client `nova` (alice's client) and must not see `orbit`, alice's other client.
"""

import os
from types import SimpleNamespace

import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchready.settings")

pytest_plugins = ["tests.testworld.fixtures"]

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def cast(db):
    from apps.clients.models import Client, EmailSetup
    from apps.sprints.models import Sprint
    from apps.tenants.models import ClientAccess, Membership, User, Workspace

    alice = User.objects.create_user("alice@acme.test", PASSWORD, name="Alice Owner")
    bob = User.objects.create_user("bob@acme.test", PASSWORD, name="Bob Consultant")
    charlie = User.objects.create_user("charlie@other.test", PASSWORD, name="Charlie Outsider")
    fiona = User.objects.create_user("fiona@nova.test", PASSWORD, name="Fiona Founder")

    acme = Workspace.objects.create(name="Acme Advisory", slug="acme")
    other = Workspace.objects.create(name="Other Partners", slug="other")
    Membership.objects.create(user=alice, workspace=acme, role="owner")
    Membership.objects.create(user=bob, workspace=acme, role="consultant")
    Membership.objects.create(user=charlie, workspace=other, role="owner")

    nova = Client.objects.create(workspace=acme, name="Nova AI", domain="nova.example", notes="private note")
    orbit = Client.objects.create(workspace=acme, name="Orbit Chat", domain="orbit.example")
    rival = Client.objects.create(workspace=other, name="Rival Bot", domain="rival.example")
    for c in (nova, orbit, rival):
        EmailSetup.objects.create(client=c)
    ClientAccess.objects.create(user=fiona, client=nova)

    nova_sprint = Sprint.start(client=nova, created_by=alice, status=Sprint.ACTIVE)
    orbit_sprint = Sprint.start(client=orbit, created_by=alice, status=Sprint.ACTIVE)
    rival_sprint = Sprint.start(client=rival, created_by=charlie, status=Sprint.ACTIVE)
    return SimpleNamespace(
        alice=alice, bob=bob, charlie=charlie, fiona=fiona, acme=acme, other=other,
        nova=nova, orbit=orbit, rival=rival,
        nova_sprint=nova_sprint, orbit_sprint=orbit_sprint, rival_sprint=rival_sprint,
        password=PASSWORD,
    )


@pytest.fixture
def login(client):
    """login(user) -> a test client logged in as user."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: login-throttle counters must not leak from one test to the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
