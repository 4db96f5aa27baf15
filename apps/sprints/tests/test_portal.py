from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.clients.models import Client
from apps.sprints.models import Sprint
from apps.tenants.models import ClientAccess

URL = reverse("sprints:portal")


def test_founders_see_only_their_clients_current_sprint(cast, login):
    item = cast.nova_sprint.items.get(check_id="email.spf")
    item.status, item.evidence_text = "warn", "11 DNS lookups"
    item.save()
    cast.nova_sprint.record_decision("go", "Ship it", cast.alice)
    cast.orbit_sprint.items.update(evidence_text="orbit secret evidence")

    response = login(cast.fiona).get(URL)

    body = response.content.decode()
    assert response.status_code == 200
    assert "Nova AI" in body and "Orbit Chat" not in body and "orbit secret evidence" not in body
    assert "11 DNS lookups" in body and "!</span> warn" in body
    assert "Ship it" in body and "GO" in body
    assert "Findings" in body and "Handover pack" in body
    assert "private note" not in body
    assert "/edit/" not in body and "/decision/" not in body
    assert reverse("sprints:detail", args=[cast.nova_sprint.pk]) in body


def test_founders_reach_their_clients_page_from_the_portal(cast, login):
    """Founders edit vendor accounts and env var names on the client page; the portal did not link to it
    (found by the e2e founder journey)."""
    body = login(cast.fiona).get(URL).content.decode()
    assert f'href="{reverse("clients:detail", args=[cast.nova.pk])}"' in body
    assert f'href="{reverse("clients:detail", args=[cast.orbit.pk])}"' not in body


def test_it_checks_ownership(cast, login):
    body = login(cast.charlie).get(URL).content.decode()
    assert "Rival Bot" not in body and "Nova AI" not in body
    assert "No client has been shared with you" in body


def test_the_current_sprint_is_the_running_one(cast, login):
    old = Sprint.start(client=cast.nova, status=Sprint.CLOSED, title="Older closed sprint")
    body = login(cast.fiona).get(URL).content.decode()
    assert reverse("sprints:detail", args=[old.pk]) not in body
    assert reverse("sprints:detail", args=[cast.nova_sprint.pk]) in body


def test_a_planned_next_sprint_does_not_hide_the_active_one(cast, login):
    from datetime import timedelta

    from django.utils import timezone

    later = timezone.now() + timedelta(days=7)
    planned = Sprint.start(client=cast.nova, status=Sprint.PLANNED, title="Next week", starts_at=later,
                           due_at=later + timedelta(hours=48))
    body = login(cast.fiona).get(URL).content.decode()
    assert reverse("sprints:detail", args=[cast.nova_sprint.pk]) in body
    assert reverse("sprints:detail", args=[planned.pk]) not in body
    Sprint.objects.filter(pk=cast.nova_sprint.pk).update(status=Sprint.HANDED_OVER)
    body = login(cast.fiona).get(URL).content.decode()
    assert reverse("sprints:detail", args=[planned.pk]) in body  # with nothing active, the planned one


def test_a_client_without_sprints_says_so(cast, login):
    empty = Client.objects.create(workspace=cast.acme, name="Empty Co", domain="empty.example")
    ClientAccess.objects.create(user=cast.fiona, client=empty)
    body = login(cast.fiona).get(URL).content.decode()
    assert "Empty Co" in body and "has not started a sprint yet" in body


def test_query_count_does_not_grow_with_clients(cast, login):
    web = login(cast.fiona)
    with CaptureQueriesContext(connection) as few:
        web.get(URL)
    for i in range(5):
        client = Client.objects.create(workspace=cast.acme, name=f"Founder co {i}", domain=f"f{i}.example")
        ClientAccess.objects.create(user=cast.fiona, client=client)
        Sprint.start(client=client, status=Sprint.ACTIVE)
    with CaptureQueriesContext(connection) as many:
        body = web.get(URL).content.decode()
    assert body.count("Founder co") == 5
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_portal_wears_the_workspace_colours_when_they_are_well_formed(cast, login):
    cast.acme.primary_colour = "#123abc"
    cast.acme.save()
    web = login(cast.fiona)
    assert "--pico-primary: #123abc" in web.get(URL).content.decode()
    assert "--pico-primary: #123abc" in web.get(reverse("sprints:detail", args=[cast.nova_sprint.pk])).content.decode()
    assert "--pico-primary" not in login(cast.alice).get(
        reverse("sprints:detail", args=[cast.nova_sprint.pk])).content.decode()

    cast.acme.primary_colour = "red;}"  # never saved through a form, but the page must not pass it on
    cast.acme.save()
    assert "red;}" not in login(cast.fiona).get(URL).content.decode()


def test_a_founder_served_by_two_consultancies_sees_neither_brand(cast, login):
    cast.acme.primary_colour = "#123abc"
    cast.acme.save()
    ClientAccess.objects.create(user=cast.fiona, client=cast.rival)  # Rival Bot: another workspace's client
    body = login(cast.fiona).get(URL).content.decode()
    assert "Nova AI" in body and "Rival Bot" in body
    assert "--pico-primary: #123abc" not in body and cast.acme.name not in body.split("<main", 1)[0]
