import pytest
from django.urls import reverse

from apps.sprints.models import Sprint


def decision_url(sprint):
    return reverse("sprints:decision", args=[sprint.pk])


def status_url(sprint):
    return reverse("sprints:status", args=[sprint.pk])


def test_recording_a_decision_logs_it(cast, login):
    web = login(cast.bob)
    response = web.post(decision_url(cast.orbit_sprint), {"decision": "go", "rationale": "All blockers fixed."})

    assert response.status_code == 302
    sprint = Sprint.objects.get(pk=cast.orbit_sprint.pk)
    assert (sprint.decision, sprint.decision_rationale, sprint.decided_by) == ("go", "All blockers fixed.", cast.bob)
    assert sprint.decided_at is not None
    assert sprint.activity.first().text == "decided GO: All blockers fixed."
    body = web.get(reverse("sprints:detail", args=[sprint.pk])).content.decode()
    assert "All blockers fixed." in body and "Bob Consultant" in body


def test_decision_get_shows_the_form(cast, login):
    response = login(cast.alice).get(decision_url(cast.orbit_sprint))
    assert response.status_code == 200 and "Record the decision" in response.content.decode()


@pytest.mark.parametrize("data,field", [
    ({"decision": "go", "rationale": ""}, "rationale"),
    ({"decision": "go"}, "rationale"),
    ({"decision": "maybe", "rationale": "why not"}, "decision"),
    ({"decision": "GO", "rationale": "caps"}, "decision"),
    ({"decision": "go", "rationale": "x" * 2001}, "rationale"),
    ({"decision": "go", "rationale": "\x00"}, "rationale"),
    ({"decision": ["go", "no-go"], "rationale": "   "}, "rationale"),
])
def test_malformed_decisions_get_field_errors(cast, login, data, field):
    response = login(cast.bob).post(decision_url(cast.orbit_sprint), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Sprint.objects.get(pk=cast.orbit_sprint.pk).decision == ""


def test_a_long_rationale_is_truncated_in_the_log_not_in_the_decision(cast, login):
    rationale = "<b>Ünïcode</b> " * 130
    login(cast.bob).post(decision_url(cast.orbit_sprint), {"decision": "no-go", "rationale": rationale})
    sprint = Sprint.objects.get(pk=cast.orbit_sprint.pk)
    assert sprint.decision_rationale == rationale.strip()
    entry = sprint.activity.first()
    assert entry.text.startswith("decided NO-GO: <b>Ünïcode</b>") and len(entry.text) == 500


def test_status_moves_forward_one_step_at_a_time(cast, login):
    web = login(cast.bob)
    sprint = cast.orbit_sprint
    assert web.post(status_url(sprint), {"status": "handed_over"}).status_code == 302
    sprint.refresh_from_db()
    assert sprint.status == "handed_over" and sprint.handed_over_at is not None
    assert sprint.activity.first().text == "changed the status from Active to Handed over"

    assert web.post(status_url(sprint), {"status": "closed"}).status_code == 302
    sprint.refresh_from_db()
    assert sprint.status == "closed"
    page = web.get(reverse("sprints:detail", args=[sprint.pk]))
    assert page.context["status_form"] is None and status_url(sprint) not in page.content.decode()


def test_a_double_click_is_harmless(cast, login):
    web = login(cast.bob)
    web.post(status_url(cast.orbit_sprint), {"status": "handed_over"})
    response = web.post(status_url(cast.orbit_sprint), {"status": "handed_over"}, follow=True)
    assert response.status_code == 200 and "already handed over" in response.content.decode()
    assert cast.orbit_sprint.activity.filter(text__startswith="changed the status").count() == 1


@pytest.mark.parametrize("value", ["planned", "closed", "bogus", "", "<script>", "ç" * 300])
def test_invalid_status_changes_get_field_errors(cast, login, value):
    response = login(cast.bob).post(status_url(cast.orbit_sprint), {"status": value})
    assert response.status_code == 400
    assert "status" in response.context["form"].errors
    assert Sprint.objects.get(pk=cast.orbit_sprint.pk).status == "active"


def test_status_get_is_not_allowed_for_members(cast, login):
    assert login(cast.bob).get(status_url(cast.orbit_sprint)).status_code == 405


@pytest.mark.parametrize("url", [decision_url, status_url])
def test_it_checks_ownership(cast, login, url):
    for user, sprint in [(cast.charlie, cast.orbit_sprint), (cast.fiona, cast.orbit_sprint),
                         (cast.fiona, cast.nova_sprint), (cast.bob, cast.rival_sprint)]:
        web = login(user)
        assert web.get(url(sprint)).status_code == 404
        assert web.post(url(sprint), {"decision": "go", "rationale": "x", "status": "handed_over"}).status_code == 404
    for sprint in (cast.orbit_sprint, cast.nova_sprint, cast.rival_sprint):
        sprint.refresh_from_db()
        assert (sprint.status, sprint.decision) == ("active", "")


def test_a_decision_recorded_meanwhile_is_not_overwritten_by_a_stale_form(cast, login):
    sprint = cast.orbit_sprint
    alice, bob = login(cast.alice), None
    form_for_alice = alice.get(decision_url(sprint)).context["form"]
    assert form_for_alice.initial["seen"] == ""
    # Bob records NO-GO while Alice's form is open ...
    assert sprint.record_decision("no-go", "DKIM missing", cast.bob, seen="")
    # ... Alice submits GO from her stale form: refused, told who decided what, nothing overwritten.
    response = alice.post(decision_url(sprint), {"decision": "go", "rationale": "Ship it", "seen": ""})
    assert response.status_code == 200
    assert "recorded &quot;NO-GO&quot; since you opened the form" in response.content.decode()
    sprint.refresh_from_db()
    assert (sprint.decision, sprint.decision_rationale, sprint.decided_by) == ("no-go", "DKIM missing", cast.bob)
    # The page she got back carries Bob's decision time: submitting it now replaces it, deliberately.
    seen = response.context["form"].initial["seen"]
    assert seen == sprint.decided_at.isoformat()
    assert alice.post(decision_url(sprint), {"decision": "go", "rationale": "Fixed", "seen": seen}).status_code == 302
    sprint.refresh_from_db()
    assert (sprint.decision, sprint.decided_by) == ("go", cast.alice)
    del bob
    for bad in ("yesterday", "2026-11-29T10:00:00", "x" * 41):  # malformed or without a zone: reload, no change
        response = alice.post(decision_url(sprint), {"decision": "no-go", "rationale": "r", "seen": bad})
        assert response.status_code == 200 and Sprint.objects.get(pk=sprint.pk).decision == "go"


def test_the_decision_is_final_once_the_sprint_is_handed_over(cast, login):
    sprint = cast.orbit_sprint
    assert sprint.record_decision("go", "Ready", cast.bob)
    Sprint.objects.filter(pk=sprint.pk).update(status=Sprint.HANDED_OVER)
    web = login(cast.bob)
    page = web.get(reverse("sprints:detail", args=[sprint.pk])).content.decode()
    assert "Change the decision" not in page
    response = web.post(decision_url(sprint), {"decision": "no-go", "rationale": "Changed my mind", "seen": ""})
    assert response.status_code == 302
    sprint.refresh_from_db()
    assert (sprint.decision, sprint.decision_rationale) == ("go", "Ready")
    assert not sprint.record_decision("no-go", "model call", cast.bob)
