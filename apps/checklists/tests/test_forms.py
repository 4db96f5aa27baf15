"""Malformed input on every checklist form: field errors, never a 500, nothing saved."""

import pytest
from django.urls import reverse

from apps.checklists.models import ChecklistTemplate, TemplateItem


@pytest.fixture
def acme_template(cast):
    return ChecklistTemplate.default().copy_to(cast.acme, name="Acme roadmap")


GOOD_ITEM = {"title": "A thing", "guidance": "", "check_id": "", "severity": "low"}


@pytest.mark.parametrize("overrides,field", [
    ({"title": ""}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": "bad\x00byte"}, "title"),
    ({"guidance": "y" * 2001}, "guidance"),
    ({"check_id": "TLS.Certificate"}, "check_id"),
    ({"check_id": "tls certificate"}, "check_id"),
    ({"check_id": "<script>alert(1)</script>"}, "check_id"),
    ({"check_id": "nodots"}, "check_id"),
    ({"check_id": "tls.not_a_real_check"}, "check_id"),
    ({"check_id": "a." + "b" * 60}, "check_id"),
    ({"severity": "critical"}, "severity"),
    ({"severity": ""}, "severity"),
])
def test_item_forms_reject_malformed_values(cast, login, acme_template, overrides, field):
    web = login(cast.bob)
    stage = acme_template.stages.first()
    item = stage.items.first()
    count = TemplateItem.objects.count()
    for url in (reverse("checklists:item_new", args=[stage.pk]), reverse("checklists:item_edit", args=[item.pk])):
        response = web.post(url, {**GOOD_ITEM, **overrides})
        assert response.status_code == 200
        assert field in response.context["form"].errors
    assert TemplateItem.objects.count() == count
    acme_template.refresh_from_db()
    assert acme_template.version == 1


def test_item_forms_keep_unicode_and_escape_html(cast, login, acme_template):
    web = login(cast.bob)
    stage = acme_template.stages.first()
    web.post(reverse("checklists:item_new", args=[stage.pk]),
             {**GOOD_ITEM, "title": "Vérifier <b>DNS</b> 🌍", "check_id": "dns.records"})
    assert TemplateItem.objects.filter(title="Vérifier <b>DNS</b> 🌍").exists()
    body = web.get(reverse("checklists:detail", args=[acme_template.pk])).content.decode()
    assert "Vérifier &lt;b&gt;DNS&lt;/b&gt; 🌍" in body


@pytest.mark.parametrize("name", ["", "n" * 121, "\x00", "   "])
def test_rename_rejects_malformed_names(cast, login, acme_template, name):
    response = login(cast.bob).post(reverse("checklists:rename", args=[acme_template.pk]), {"name": name})
    assert response.status_code == 200 and "name" in response.context["form"].errors
    acme_template.refresh_from_db()
    assert (acme_template.name, acme_template.version) == ("Acme roadmap", 1)


@pytest.mark.parametrize("data,field", [
    ({"workspace": "not-a-uuid", "name": "x"}, "workspace"),
    ({"workspace": "00000000-0000-0000-0000-000000000000", "name": "x"}, "workspace"),
    ({"workspace": 42, "name": "x"}, "workspace"),
    ({"name": "x"}, "workspace"),
    ({"workspace": "ACME", "name": "n" * 121}, "name"),
    ({"name": "<script>"}, "workspace"),
])
def test_copy_rejects_malformed_values(cast, login, acme_template, data, field):
    before = ChecklistTemplate.objects.count()
    response = login(cast.bob).post(reverse("checklists:copy", args=[acme_template.pk]), data)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert ChecklistTemplate.objects.count() == before


@pytest.mark.parametrize("direction", ["", "left", "UP", "<b>", "⬆"])
def test_move_rejects_malformed_directions(cast, login, acme_template, direction):
    item = acme_template.stages.first().items.first()
    response = login(cast.bob).post(reverse("checklists:item_move", args=[item.pk]), {"direction": direction})
    assert response.status_code == 400 and "direction" in response.context["form"].errors
