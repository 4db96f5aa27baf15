import pytest
from django.urls import reverse

from apps.checklists.models import SprintItem


def edit_url(item):
    return reverse("sprints:item_edit", args=[item.pk])


@pytest.fixture
def orbit_item(cast):
    return cast.orbit_sprint.items.get(check_id="tls.certificate")


def test_full_page_edit_saves_and_logs(cast, login, orbit_item):
    web = login(cast.bob)
    assert "Edit an item" in web.get(edit_url(orbit_item)).content.decode()

    response = web.post(edit_url(orbit_item), {
        "status": "warn", "evidence_text": "Expires in 10 days", "evidence_link": "https://ci.example/run/42",
        "owner": "Dana", "override_reason": "Checked by hand: renewal is scheduled",
    })

    assert response.status_code == 302
    assert response.url.endswith(f"#item-{orbit_item.pk}")
    orbit_item.refresh_from_db()
    assert (orbit_item.status, orbit_item.owner, orbit_item.updated_by) == ("warn", "Dana", cast.bob)
    assert orbit_item.evidence_link == "https://ci.example/run/42"
    entry = cast.orbit_sprint.activity.first()
    assert entry.actor == cast.bob
    assert entry.text == ("updated “TLS certificates valid and trusted”: status → warn, evidence, owner → Dana, "
                          "overrides the scan: Checked by hand: renewal is scheduled")


def test_htmx_edit_swaps_the_row_and_updates_progress_out_of_band(cast, login, orbit_item):
    web = login(cast.bob)
    form = web.get(edit_url(orbit_item), HTTP_HX_REQUEST="true")
    assert form.status_code == 200
    assert "<html" not in form.content.decode() and 'hx-post="' in form.content.decode()

    response = web.post(edit_url(orbit_item), {"status": "pass", "evidence_text": "", "evidence_link": "",
                                               "owner": "", "override_reason": "Verified in the browser"},
                        HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert f'id="item-{orbit_item.pk}"' in body and "✓</span> pass" in body
    sprint_id = cast.orbit_sprint.pk
    assert f'id="progress-{sprint_id}-stage-3" class="progress-row" hx-swap-oob="true"' in body
    assert "8%" in body  # 1 of 12 stage-3 items done
    assert f'id="progress-{sprint_id}" class="progress-row" hx-swap-oob="true"' in body
    assert 'id="activity" hx-swap-oob="true"' in body


def test_htmx_errors_come_back_in_the_form(cast, login, orbit_item):
    response = login(cast.bob).post(edit_url(orbit_item), {"status": "great"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "field-error" in body and "<html" not in body


def test_an_unchanged_form_writes_no_activity(cast, login, orbit_item):
    before = cast.orbit_sprint.activity.count()
    login(cast.bob).post(edit_url(orbit_item), {"status": "todo", "evidence_text": "", "evidence_link": "",
                                                "owner": ""})
    assert cast.orbit_sprint.activity.count() == before


def test_it_checks_ownership(cast, login, orbit_item):
    nova_item = cast.nova_sprint.items.first()
    for user, item in [(cast.charlie, orbit_item), (cast.fiona, orbit_item), (cast.fiona, nova_item)]:
        web = login(user)
        assert web.get(edit_url(item)).status_code == 404
        assert web.post(edit_url(item), {"status": "pass"}).status_code == 404
        assert web.get(reverse("sprints:item", args=[orbit_item.pk])).status_code == 404
    orbit_item.refresh_from_db()
    assert orbit_item.status == "todo"
    assert login(cast.bob).get(edit_url(orbit_item)).status_code == 200


def test_cancel_returns_the_read_only_row(cast, login, orbit_item):
    web = login(cast.fiona)
    nova_item = cast.nova_sprint.items.first()
    row = web.get(reverse("sprints:item", args=[nova_item.pk]), HTTP_HX_REQUEST="true")
    assert row.status_code == 200 and "/edit/" not in row.content.decode()
    plain = web.get(reverse("sprints:item", args=[nova_item.pk]))
    assert plain.status_code == 302 and plain.url.endswith(f"#item-{nova_item.pk}")
    consultant_row = login(cast.bob).get(reverse("sprints:item", args=[orbit_item.pk]), HTTP_HX_REQUEST="true")
    assert edit_url(orbit_item) in consultant_row.content.decode()


MALFORMED = [
    ({"status": "done"}, "status"),
    ({"status": ["pass", "fail"], "owner": "x" * 121}, "owner"),
    ({"status": "pass", "evidence_link": "javascript:alert(1)"}, "evidence_link"),
    ({"status": "pass", "evidence_link": "ftp://files.example/x"}, "evidence_link"),
    ({"status": "pass", "evidence_link": "https://" + "a" * 600 + ".example"}, "evidence_link"),
    ({"status": "pass", "evidence_text": "x" * 5001}, "evidence_text"),
    ({"status": "pass", "owner": "nul\x00byte"}, "owner"),
    ({"status": 12}, "status"),
    ({}, "status"),
]


@pytest.mark.parametrize("data,field", MALFORMED)
def test_malformed_values_get_field_errors(cast, login, orbit_item, data, field):
    response = login(cast.bob).post(edit_url(orbit_item), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    orbit_item.refresh_from_db()
    assert orbit_item.status == "todo"


def test_html_and_unicode_are_stored_and_escaped(cast, login, orbit_item):
    web = login(cast.bob)
    web.post(edit_url(orbit_item), {"status": "pass", "evidence_text": "<script>alert(1)</script> ✓ 証拠",
                                    "owner": "Zoë <b>", "evidence_link": "https://例え.jp/パス",
                                    "override_reason": "<i>checked</i> 手で"})
    item = SprintItem.objects.get(pk=orbit_item.pk)
    assert item.owner == "Zoë <b>" and item.evidence_link
    body = web.get(reverse("sprints:detail", args=[cast.orbit_sprint.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; ✓ 証拠" in body and "<script>alert(1)" not in body
