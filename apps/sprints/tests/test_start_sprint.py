from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.checklists.models import ChecklistTemplate
from apps.sprints.models import Sprint


def new_url(client):
    return reverse("sprints:new", args=[client.pk])


def form_data(chosen, **overrides):
    data = {"title": "Second sprint", "template": str(chosen.pk), "starts_at": "2026-12-01T09:00",
            "due_at": "", "status": "planned"}
    data.update(overrides)
    return data


def test_starting_a_sprint_snapshots_the_template_and_defaults_due_to_48_hours(cast, login):
    web = login(cast.bob)
    page = web.get(new_url(cast.orbit))
    assert page.status_code == 200 and "Launch readiness roadmap" in page.content.decode()

    response = web.post(new_url(cast.orbit), form_data(ChecklistTemplate.default()))

    sprint = Sprint.objects.filter(client=cast.orbit).exclude(pk=cast.orbit_sprint.pk).get()
    assert response.status_code == 302 and response.url == reverse("sprints:detail", args=[sprint.pk])
    assert sprint.due_at - sprint.starts_at == timedelta(hours=48)
    assert (sprint.title, sprint.status, sprint.created_by) == ("Second sprint", "planned", cast.bob)
    assert sprint.items.count() == cast.orbit_sprint.items.count()
    assert "started the sprint" in sprint.activity.first().text


@pytest.mark.parametrize("page_url, button", [
    (lambda cast: new_url(cast.orbit), "Start the sprint"),
    (lambda cast: reverse("sprints:decision", args=[cast.orbit_sprint.pk]), "Record the decision"),
])
def test_form_pages_have_one_submit_button(cast, login, page_url, button):
    """form_page.html passed its `submit` on to partials/form.html, which drew a second button (found by e2e)."""
    html = login(cast.bob).get(page_url(cast)).content.decode()
    assert html.count(f'<button type="submit">{button}</button>') == 1
    assert html.count('type="submit"') == html.count("Log out</button>") + 1


def test_a_workspace_template_can_be_chosen_but_not_another_workspaces(cast, login):
    ours = ChecklistTemplate.default().copy_to(cast.acme, name="Acme flavour")
    theirs = ChecklistTemplate.default().copy_to(cast.other, name="Other flavour")
    web = login(cast.bob)
    assert "Acme flavour" in web.get(new_url(cast.orbit)).content.decode()
    assert "Other flavour" not in web.get(new_url(cast.orbit)).content.decode()

    response = web.post(new_url(cast.orbit), form_data(theirs))
    assert "template" in response.context["form"].errors

    web.post(new_url(cast.orbit), form_data(ours, due_at="2026-12-01T21:00", status="active"))
    sprint = Sprint.objects.get(template=ours)
    assert sprint.due_at - sprint.starts_at == timedelta(hours=12)


def test_it_checks_ownership(cast, login):
    for user, client in [(cast.charlie, cast.orbit), (cast.fiona, cast.nova), (cast.fiona, cast.orbit)]:
        web = login(user)
        assert web.get(new_url(client)).status_code == 404
        assert web.post(new_url(client), form_data(ChecklistTemplate.default())).status_code == 404
    assert Sprint.objects.count() == 3


@pytest.mark.parametrize("overrides,field", [
    ({"title": ""}, "title"),
    ({"title": "x" * 121}, "title"),
    ({"template": "not-a-uuid"}, "template"),
    ({"template": "00000000-0000-0000-0000-000000000000"}, "template"),
    ({"starts_at": "yesterday"}, "starts_at"),
    ({"starts_at": "2026-13-45T25:61"}, "starts_at"),
    ({"starts_at": "99999-01-01T00:00"}, "starts_at"),
    ({"starts_at": "9999-12-31T23:00", "due_at": ""}, "starts_at"),  # before: the 48-hour default overflowed, 500
    ({"starts_at": "0001-01-01T00:00", "due_at": ""}, "starts_at"),
    ({"due_at": "2026-11-30T09:00"}, "due_at"),  # before the start
    ({"due_at": "2027-12-01T09:00"}, "due_at"),  # far too long
    ({"due_at": "<script>alert(1)</script>"}, "due_at"),
    ({"status": "handed_over"}, "status"),
    ({"status": "♥"}, "status"),
])
def test_malformed_values_get_field_errors(cast, login, overrides, field):
    response = login(cast.bob).post(new_url(cast.orbit), form_data(ChecklistTemplate.default(), **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Sprint.objects.count() == 3


def test_unicode_and_html_titles_are_kept_and_escaped(cast, login):
    web = login(cast.bob)
    web.post(new_url(cast.orbit), form_data(ChecklistTemplate.default(), title="Lancement 🚀 <em>v2</em>"))
    sprint = Sprint.objects.get(title="Lancement 🚀 <em>v2</em>")
    body = web.get(reverse("sprints:detail", args=[sprint.pk])).content.decode()
    assert "Lancement 🚀 &lt;em&gt;v2&lt;/em&gt;" in body


def test_the_form_defaults_to_now_and_48_hours(cast, login):
    form = login(cast.bob).get(new_url(cast.orbit)).context["form"]
    starts, due = form.initial["starts_at"], form.initial["due_at"]
    assert abs(starts - timezone.now()) < timedelta(minutes=2) and due - starts == timedelta(hours=48)
