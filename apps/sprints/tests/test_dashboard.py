from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.clients.models import Client
from apps.sprints.models import Sprint

URL = reverse("sprints:dashboard")


def test_it_lists_running_sprints_of_the_workspace_with_progress(cast, login):
    item = cast.nova_sprint.items.get(check_id="tls.certificate")
    item.status = "pass"
    item.save()
    total = cast.nova_sprint.items.count()

    response = login(cast.bob).get(URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Nova AI" in body and "Orbit Chat" in body
    assert f"{round(100 / total)}%" in body
    assert "47 h 59 min left" in body or "48 h 0 min left" in body
    assert 'class="score"><span class="muted">not scanned</span>' in body


def test_it_checks_ownership(cast, login):
    body = login(cast.charlie).get(URL).content.decode()
    assert "Rival Bot" in body
    assert "Nova AI" not in body and "Orbit Chat" not in body


def test_founders_are_sent_to_their_portal(cast, login):
    response = login(cast.fiona).get(URL)
    assert response.status_code == 302 and response.url == reverse("sprints:portal")


def test_anonymous_visitors_must_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_it_shows_overdue_sprints_and_hides_closed_ones(cast, login):
    cast.orbit_sprint.due_at = timezone.now() - timedelta(hours=3, minutes=5, seconds=10)
    cast.orbit_sprint.save()
    cast.nova_sprint.status = Sprint.CLOSED
    cast.nova_sprint.save()

    body = login(cast.alice).get(URL).content.decode()

    assert "overdue by 3 h 5 min" in body
    assert reverse("sprints:detail", args=[cast.nova_sprint.pk]) not in body


def test_it_lists_recent_handovers_and_idle_clients(cast, login):
    cast.nova_sprint.change_status(Sprint.HANDED_OVER, cast.alice)

    body = login(cast.alice).get(URL).content.decode()

    handovers = body.split("Recently handed over")[1].split("Clients without")[0]
    assert "Nova AI" in handovers
    idle = body.split("Clients without a running sprint")[1]
    assert reverse("sprints:new", args=[cast.nova.pk]) in idle
    assert reverse("sprints:new", args=[cast.orbit.pk]) not in idle


def _add_sprints(workspace, count, prefix):
    for i in range(count):
        client = Client.objects.create(workspace=workspace, name=f"{prefix} {i}", domain=f"{prefix}{i}.example")
        sprint = Sprint.start(client=client, status=Sprint.ACTIVE if i % 2 else Sprint.PLANNED)
        sprint.items.filter(stage_number=1).update(status="pass")
        sprint.log(None, "worked on it")


def _count_queries(web):
    with CaptureQueriesContext(connection) as ctx:
        response = web.get(URL)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_query_count_does_not_grow_with_sprints(cast, login, django_assert_max_num_queries):
    web = login(cast.alice)
    _add_sprints(cast.acme, 1, "few")
    few, body = _count_queries(web)
    assert body.count('class="score"') == 3

    _add_sprints(cast.acme, 27, "many")
    _add_sprints(cast.other, 5, "elsewhere")  # another workspace's sprints neither show nor cost
    with django_assert_max_num_queries(few):
        many, body = _count_queries(web)
    assert body.count('class="score"') == 30
    assert many == few
