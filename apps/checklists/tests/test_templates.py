import pytest
from django.urls import reverse

from apps.checklists.models import ChecklistTemplate, TemplateItem
from apps.sprints.models import Sprint

LIST = reverse("checklists:list")


@pytest.fixture
def acme_template(cast):
    return ChecklistTemplate.default().copy_to(cast.acme, name="Acme roadmap")


def detail(template):
    return reverse("checklists:detail", args=[template.pk])


def first_item(template, stage_number=1):
    return TemplateItem.objects.filter(stage__template=template, stage__number=stage_number).order_by("position")


def test_list_shows_the_roadmap_and_own_templates_only(cast, login, acme_template):
    ChecklistTemplate.default().copy_to(cast.other, name="Other roadmap")
    body = login(cast.bob).get(LIST).content.decode()
    assert "Launch readiness roadmap" in body and "Acme roadmap" in body and "Other roadmap" not in body
    assert "built-in" in body


def test_list_checks_ownership(cast, login, acme_template):
    assert login(cast.fiona).get(LIST).status_code == 404  # consultant-only page
    body = login(cast.charlie).get(LIST).content.decode()
    assert "Launch readiness roadmap" in body and "Acme roadmap" not in body


def test_the_system_template_is_read_only(cast, login):
    system = ChecklistTemplate.default()
    web = login(cast.charlie)
    body = web.get(detail(system)).content.decode()
    assert "Read-only" in body and "Copy" in body and "/edit/" not in body and "/move/" not in body
    item = first_item(system).first()
    stage = system.stages.first()
    for url in [reverse("checklists:rename", args=[system.pk]), reverse("checklists:item_edit", args=[item.pk]),
                reverse("checklists:item_delete", args=[item.pk]), reverse("checklists:item_move", args=[item.pk]),
                reverse("checklists:item_new", args=[stage.pk])]:
        assert web.get(url).status_code == 404
        assert web.post(url, {"name": "Hacked", "title": "x", "severity": "low", "direction": "up"}).status_code == 404
    system.refresh_from_db()
    assert (system.name, system.version) == ("Launch readiness roadmap", 1)
    assert TemplateItem.objects.filter(pk=item.pk).exists()


def test_copy_into_a_workspace(cast, login):
    web = login(cast.bob)
    response = web.post(reverse("checklists:copy", args=[ChecklistTemplate.default().pk]),
                        {"workspace": str(cast.acme.pk), "name": "Our roadmap"})
    copy = ChecklistTemplate.objects.get(name="Our roadmap")
    assert response.status_code == 302 and response.url == detail(copy)
    assert copy.workspace == cast.acme and copy.based_on == ChecklistTemplate.default()
    assert TemplateItem.objects.filter(stage__template=copy).count() == \
        TemplateItem.objects.filter(stage__template=ChecklistTemplate.default()).count()


def test_copy_form_get_and_foreign_workspace(cast, login):
    web = login(cast.bob)
    url = reverse("checklists:copy", args=[ChecklistTemplate.default().pk])
    assert "(copy)" in web.get(url).content.decode()
    response = web.post(url, {"workspace": str(cast.other.pk), "name": "Sneaky"})
    assert response.status_code == 200 and "workspace" in response.context["form"].errors
    assert not ChecklistTemplate.objects.filter(name="Sneaky").exists()


def test_editing_bumps_the_version(cast, login, acme_template):
    web = login(cast.bob)
    stage = acme_template.stages.get(number=2)
    items = list(first_item(acme_template, 2))

    web.post(reverse("checklists:rename", args=[acme_template.pk]), {"name": "Acme v2"})
    web.post(reverse("checklists:item_new", args=[stage.pk]),
             {"title": "Feature flags reviewed", "guidance": "", "check_id": "", "severity": "low"})
    web.post(reverse("checklists:item_edit", args=[items[0].pk]),
             {"title": "Env vars complete", "guidance": "g", "check_id": "deploy.env_complete", "severity": "high"})
    web.post(reverse("checklists:item_move", args=[items[1].pk]), {"direction": "up"})
    web.post(reverse("checklists:item_delete", args=[items[2].pk]))

    acme_template.refresh_from_db()
    assert (acme_template.name, acme_template.version) == ("Acme v2", 6)
    titles = list(first_item(acme_template, 2).values_list("title", "position"))
    assert titles == [
        (items[1].title, 1), ("Env vars complete", 2), (items[3].title, 3), (items[4].title, 4),
        (items[5].title, 5), ("Feature flags reviewed", 6),
    ]
    edited = TemplateItem.objects.get(pk=items[0].pk)
    assert (edited.severity, edited.guidance) == ("high", "g")


def test_moving_past_either_end_changes_nothing(cast, login, acme_template):
    web = login(cast.bob)
    items = list(first_item(acme_template))
    assert web.post(reverse("checklists:item_move", args=[items[0].pk]), {"direction": "up"}).status_code == 302
    assert web.post(reverse("checklists:item_move", args=[items[-1].pk]), {"direction": "down"}).status_code == 302
    assert list(first_item(acme_template)) == items
    acme_template.refresh_from_db()
    assert acme_template.version == 1
    assert web.get(reverse("checklists:item_move", args=[items[0].pk])).status_code == 405


def test_delete_asks_first(cast, login, acme_template):
    item = first_item(acme_template).first()
    page = login(cast.bob).get(reverse("checklists:item_delete", args=[item.pk]))
    assert page.status_code == 200 and "Remove" in page.content.decode()
    assert TemplateItem.objects.filter(pk=item.pk).exists()


def test_a_sprint_keeps_its_snapshot_when_the_template_changes(cast, login, acme_template):
    sprint = Sprint.start(client=cast.orbit, template=acme_template, created_by=cast.bob)
    before = list(sprint.items.values_list("stage_number", "position", "title", "check_id", "severity"))
    web = login(cast.bob)
    first = first_item(acme_template).first()

    web.post(reverse("checklists:item_edit", args=[first.pk]),
             {"title": "Rewritten", "guidance": "", "check_id": "", "severity": "info"})
    web.post(reverse("checklists:item_delete", args=[first_item(acme_template).last().pk]))
    web.post(reverse("checklists:item_new", args=[acme_template.stages.first().pk]),
             {"title": "Brand new", "guidance": "", "check_id": "", "severity": "low"})
    web.post(reverse("checklists:rename", args=[acme_template.pk]), {"name": "Renamed"})

    after = list(sprint.items.values_list("stage_number", "position", "title", "check_id", "severity"))
    assert after == before
    body = web.get(reverse("sprints:detail", args=[sprint.pk])).content.decode()
    assert "Brand new" not in body and "Rewritten" not in body


def test_it_checks_ownership(cast, login, acme_template):
    item = first_item(acme_template).first()
    stage = acme_template.stages.first()
    urls = [detail(acme_template), reverse("checklists:copy", args=[acme_template.pk]),
            reverse("checklists:rename", args=[acme_template.pk]),
            reverse("checklists:item_new", args=[stage.pk]), reverse("checklists:item_edit", args=[item.pk]),
            reverse("checklists:item_delete", args=[item.pk]), reverse("checklists:item_move", args=[item.pk])]
    for user in (cast.charlie, cast.fiona):
        web = login(user)
        for url in urls:
            assert web.get(url).status_code == 404, (user, url)
            assert web.post(url, {"name": "x", "title": "x", "severity": "low", "direction": "up",
                                  "workspace": str(cast.other.pk)}).status_code == 404, (user, url)
    acme_template.refresh_from_db()
    assert (acme_template.name, acme_template.version) == ("Acme roadmap", 1)
    assert TemplateItem.objects.filter(pk=item.pk).exists()
    bob = login(cast.bob)
    assert bob.get(detail(acme_template)).status_code == 200
    assert "/move/" in bob.get(detail(acme_template)).content.decode()
