from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.checklists.models import ChecklistTemplate, TemplateItem
from apps.sprints.models import Sprint


def url(sprint):
    return reverse("sprints:detail", args=[sprint.pk])


def test_consultants_see_stages_items_countdown_and_forms(cast, login):
    item = cast.orbit_sprint.items.get(check_id="dns.dangling")
    item.status, item.evidence_text, item.owner = "fail", "api.orbit.example → deleted-app.herokuapp.com", "Dana"
    item.save()

    response = login(cast.bob).get(url(cast.orbit_sprint))

    assert response.status_code == 200
    body = response.content.decode()
    for number, name in [(1, "Quick audit"), (4, "Performance hardening"), (7, "Production handover")]:
        assert f"{number}. {name}" in body
    assert "deleted-app.herokuapp.com" in body and "Owner: Dana" in body
    assert "✗</span> fail" in body  # colour plus icon plus a word
    assert "h 59 min left" in body or "48 h 0 min left" in body
    assert reverse("sprints:item_edit", args=[item.pk]) in body
    assert reverse("sprints:decision", args=[cast.orbit_sprint.pk]) in body
    assert reverse("sprints:status", args=[cast.orbit_sprint.pk]) in body
    assert "started the sprint" in body  # activity log
    assert reverse("sprints:new", args=[cast.orbit.pk]) in body


def test_it_checks_ownership(cast, login):
    assert login(cast.charlie).get(url(cast.orbit_sprint)).status_code == 404
    assert login(cast.fiona).get(url(cast.orbit_sprint)).status_code == 404
    assert login(cast.bob).get(url(cast.orbit_sprint)).status_code == 200
    assert login(cast.charlie).get(url(cast.rival_sprint)).status_code == 200


def test_unknown_sprint_is_404(cast, login):
    missing = reverse("sprints:detail", args=["00000000-0000-0000-0000-000000000000"])
    assert login(cast.alice).get(missing).status_code == 404


def test_founders_read_their_sprint_without_forms_or_private_notes(cast, login):
    cast.nova_sprint.record_decision("no-go", "TLS expired on app.nova.example", cast.alice)

    response = login(cast.fiona).get(url(cast.nova_sprint))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Quick audit" in body
    assert "TLS expired on app.nova.example" in body and "NO-GO" in body
    assert "private note" not in body
    assert "<form method=\"post\" action=\"/sprints/" not in body
    assert "/edit/" not in body and "/decision/" not in body and "/status/" not in body
    assert reverse("sprints:new", args=[cast.nova.pk]) not in body
    assert "Acme Advisory" in body  # the consultant's branding


def test_overdue_and_finished_sprints_say_so(cast, login):
    cast.orbit_sprint.due_at = timezone.now() - timedelta(days=1, hours=2, minutes=1)
    cast.orbit_sprint.save()
    web = login(cast.alice)
    assert "overdue by 26 h 1 min" in web.get(url(cast.orbit_sprint)).content.decode()

    cast.orbit_sprint.status = Sprint.HANDED_OVER
    cast.orbit_sprint.save()
    body = web.get(url(cast.orbit_sprint)).content.decode()
    assert "overdue" not in body and "handed over" in body


def _queries(web, sprint):
    with CaptureQueriesContext(connection) as ctx:
        response = web.get(url(sprint))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_items_or_activity(cast, login, django_assert_max_num_queries):
    tiny = cast.acme.templates.create(name="Tiny")
    stage = tiny.stages.create(number=1, name="Only stage")
    stage.add_item(title="One thing")
    small = Sprint.start(client=cast.orbit, template=tiny, created_by=cast.bob)
    small.record_decision("go", "fine", cast.bob)
    web = login(cast.bob)
    few = _queries(web, small)

    big = cast.orbit_sprint
    big.record_decision("go", "fine", cast.alice)
    for item in big.items.all()[:20]:
        item.status, item.updated_by, item.updated_at = "pass", cast.alice, timezone.now()
        item.record_update(cast.bob, ["status"])
    assert big.items.count() > 40 and big.activity.count() > 20
    with django_assert_max_num_queries(few):
        assert _queries(web, big) == few


def test_the_default_template_is_used_when_none_given(cast):
    assert cast.nova_sprint.template == ChecklistTemplate.default()
    assert cast.nova_sprint.items.count() == TemplateItem.objects.filter(stage__template__workspace=None).count()
