"""The per-row markup written in Python (apps/sprints/templatetags/sprint_rows.py) is byte for byte what the
templates it replaced rendered: the old templates are kept here as the reference, for every branch they had."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import timezone

from apps.checklists.models import SprintItem
from apps.sprints.forms import DecisionForm
from apps.sprints.models import ActivityEntry, Sprint, StageProgress
from apps.sprints.templatetags.sprint_rows import (
    activity_rows,
    countdown,
    dashboard_row,
    decision_fields,
    item_row,
    latest_score,
    short_link,
    short_time,
    stage_bars,
    stage_progress,
)

OLD_ITEM = """<div class="sprint-item status-{{ item.status }}" id="item-{{ item.pk }}">
  <div class="item-head">
    <span class="badge badge-{{ item.status }}"><span aria-hidden="true">{% if item.status == "pass" %}✓{% elif item.status == "warn" %}!{% elif item.status == "fail" %}✗{% elif item.status == "na" %}–{% else %}○{% endif %}</span> {{ item.get_status_display }}</span>
    <strong class="item-title">{{ item.title }}</strong>
    <span class="sev sev-{{ item.severity }}" title="severity">{{ item.severity }}</span>
    {% if item.check_id %}<code class="check-id">{{ item.check_id }}</code>{% else %}<small class="muted">manual</small>{% endif %}
    {% if can_edit %}{% url 'sprints:item_edit' item.pk as edit_url %}<a class="edit-link" href="{{ edit_url }}" hx-get="{{ edit_url }}" hx-target="#item-{{ item.pk }}" hx-swap="outerHTML">Edit</a>{% endif %}
  </div>
  {% if item.scan_status %}<small class="scan-says{% if item.disagrees_with_scan %} disagree{% endif %}">Latest scan: <span class="badge badge-{{ item.scan_status }}">{{ item.scan_status }}</span> {{ item.scan_summary }}{% if item.disagrees_with_scan %} — overridden: {{ item.override_reason }}{% endif %}</small>{% elif item.override_reason %}<small class="muted">Override: {{ item.override_reason }}</small>{% endif %}
  {% if item.guidance %}<small class="muted guidance">{{ item.guidance }}</small>{% endif %}
  {% if item.evidence_text or item.evidence_link %}
    <div class="evidence">{% if item.evidence_text %}{{ item.evidence_text|linebreaksbr }}{% endif %}
      {% if item.evidence_link %}<a href="{{ item.evidence_link }}" rel="noopener noreferrer nofollow" target="_blank">{{ item.evidence_link|truncatechars:80 }}</a>{% endif %}</div>
  {% endif %}
  <small class="muted item-meta">{% if item.owner %}Owner: {{ item.owner }}{% else %}No owner yet{% endif %}{% if item.updated_at %} · updated by {{ item.updated_by.display_name|default:"someone" }}, {{ item.updated_at|date:"M j, H:i" }} UTC{% endif %}</small>
</div>
"""  # noqa: E501
OLD_COUNTDOWN = """<span class="countdown{% if sprint.is_overdue %} overdue{% endif %}"{% if sprint.is_running %} data-due="{{ sprint.due_at|date:'c' }}"{% endif %}>{{ sprint.countdown }}</span>"""  # noqa: E501
OLD_SCORE = """{% if sprint.latest_score is not None %}<strong>{{ sprint.latest_score }}</strong> ({{ sprint.latest_grade }}){% if sprint.latest_blockers %}<br><span class="badge badge-blocker">{{ sprint.latest_blockers }} blocker{{ sprint.latest_blockers|pluralize }}</span>{% endif %}<br><small class="muted">scanned {{ sprint.latest_scan_at|timesince }} ago</small>{% else %}<span class="muted">not scanned</span>{% endif %}"""  # noqa: E501
OLD_STAGE_BARS = """{% for stage in stages %}<progress value="{{ stage.done }}" max="{{ stage.total|default:1 }}" title="{{ stage.number }}. {{ stage.name }}: {{ stage.percent }}%" aria-label="Stage {{ stage.number }}: {{ stage.percent }}%"></progress>{% endfor %}"""  # noqa: E501

OLD_DASHBOARD_ROW = """{% load links sprint_rows %}
    <tr>
      <td><strong><a href="{% object_url 'clients:detail' client_id=sprint.client_id %}">{{ sprint.client.name }}</a></strong><br><small class="muted">{{ sprint.client.domain_unicode }}</small></td>
      <td><a href="{% object_url 'sprints:detail' sprint_id=sprint.pk %}">{{ sprint.title }}</a><br><span class="badge badge-{{ sprint.status }}">{{ sprint.get_status_display }}</span></td>
      <td><div class="progress-row"><progress value="{{ sprint.items_done }}" max="{{ sprint.items_total|default:1 }}" aria-label="Progress"></progress> <span>{{ sprint.progress_percent }}%</span></div></td>
      <td><div class="stage-bars">{% stage_bars sprint.stage_progress %}</div></td>
      <td>{% countdown sprint %}</td>
      <td>{% if sprint.decision %}<span class="badge badge-{{ sprint.decision }}">{{ sprint.get_decision_display }}</span>{% else %}<span class="muted">pending</span>{% endif %}</td>
      <td class="score">{% latest_score sprint %}</td>
    </tr>
  """  # noqa: E501


def old(source, **context):
    return Template("{% load l10n %}{% localize off %}" + source + "{% endlocalize %}").render(Context(context))


def test_item_row_is_the_old_template_in_every_branch(cast):
    item = cast.nova_sprint.items.first()
    variants = itertools.product(
        ["todo", "pass", "warn", "fail", "na"],                         # status (icon)
        ["", "tls.cert"],                                                # check id or manual
        ["", "pass", "fail"],                                            # what the scan said
        ["", "We accept <this> risk & more"],                            # override reason
        ["", "Line one\nline <two> & three"],                            # evidence text
        ["", "https://example.com/" + "a" * 90 + "?x=<1>&y=2"],         # evidence link (truncated)
        ["", "Dana <ops>"],                                              # owner
        [None, cast.alice, "nobody"],                                    # updated: by whom
        [False, True],                                                   # can_edit
    )
    checked = 0
    for status, check_id, scan, override, text, link, owner, updated, can_edit in variants:
        if checked % 7 and (text or link) and updated:  # keep the run short: a spread of combinations
            checked += 1
            continue
        item.status, item.check_id, item.scan_status, item.override_reason = status, check_id, scan, override
        item.scan_summary = "Scan <said> so" if scan else ""
        item.evidence_text, item.evidence_link, item.owner = text, link, owner
        item.guidance = "Do <it> & check" if checked % 2 else ""
        item.updated_at = None if updated is None else timezone.now() - timedelta(hours=3)
        item.updated_by = updated if updated not in (None, "nobody") else None
        assert item_row(item, can_edit) == old(OLD_ITEM, item=item, can_edit=can_edit), (status, scan, override)
        checked += 1
    assert checked > 1000
OLD_ACTIVITY = """{% for entry in activity %}
    <li><strong>{{ entry.actor.display_name|default:"System" }}</strong> {{ entry.text }} <small class="muted"><time datetime="{{ entry.created_at|date:'c' }}">{{ entry.created_at|date:"M j, H:i" }} UTC</time></small></li>
  {% endfor %}"""  # noqa: E501


def test_short_time_is_the_date_filter_in_every_month_and_hour():
    moments = [datetime(2026, month, day, hour, minute, second, micro, tzinfo=UTC)
               for month in range(1, 13) for day, hour, minute, second, micro in
               [(1, 0, 0, 0, 0), (9, 9, 5, 59, 1), (10, 13, 30, 1, 999999), (28, 23, 59, 30, 500)]]
    for moment in moments:
        assert short_time(moment) == old('{{ moment|date:"M j, H:i" }}', moment=moment), moment


def test_activity_rows_are_the_old_template(cast):
    sprint = cast.nova_sprint
    ActivityEntry.objects.create(client=sprint.client, sprint=sprint, actor=cast.alice, text="Set <b> & “quoted”")
    ActivityEntry.objects.create(client=sprint.client, sprint=sprint, actor=None, text="The scan finished")
    entries = list(sprint.activity.select_related("actor"))
    entries[0].created_at = datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=UTC)  # microseconds show in the ISO form
    assert len(entries) >= 2 and any(e.actor is None for e in entries) and any(e.actor for e in entries)
    assert activity_rows(entries) == old(OLD_ACTIVITY, activity=entries)
    assert activity_rows([]) == ""
OLD_STAGE_PROGRESS = """<div id="progress-{{ sprint.pk }}-stage-{{ stage.number }}" class="progress-row"{% if oob %} hx-swap-oob="true"{% endif %}>
  <progress value="{{ stage.done }}" max="{{ stage.total|default:1 }}" aria-label="Stage {{ stage.number }} progress"></progress>
  <span>{{ stage.percent }}%</span> <small class="muted">{{ stage.done }}/{{ stage.total }}</small>
</div>
"""  # noqa: E501


def test_stage_progress_is_the_old_template(cast):
    for stage in [StageProgress(1, "Quick audit", 3, 7), StageProgress(7, "Handover", 0, 0)]:
        for oob in (False, True):
            assert stage_progress(cast.nova_sprint, stage, oob) == old(
                OLD_STAGE_PROGRESS, sprint=cast.nova_sprint, stage=stage, oob=oob)


def test_short_link_is_truncatechars():
    for link in ["https://ci.example.com/runs/1", "https://x.example/" + "a" * 62, "https://x.example/" + "a" * 63,
                 "https://exämple.com/" + "ü" * 70, "https://e.com/e\u0301" + "b" * 70, ""]:
        assert short_link(link) == old("{{ link|truncatechars:80 }}", link=link), link


@pytest.mark.parametrize("decision,rationale", [
    ("", ""), (Sprint.GO, "All blockers fixed.\nRisk <accepted> & “noted”"), (Sprint.NO_GO, "DKIM missing"),
])
def test_decision_fields_are_the_form_partial(cast, decision, rationale):
    sprint = cast.nova_sprint
    sprint.decision, sprint.decision_rationale = decision, rationale
    sprint.decided_at = timezone.now() if decision else None
    form = DecisionForm(initial={"decision": decision, "rationale": rationale, "seen": DecisionForm.seen_value(sprint)})
    assert decision_fields(sprint) == render_to_string("partials/form.html", {
        "form": form, "submit": "Record the decision"})


@pytest.mark.parametrize("status,due", [
    (Sprint.ACTIVE, timedelta(hours=5)), (Sprint.PLANNED, -timedelta(hours=2)), (Sprint.CLOSED, timedelta(hours=1)),
])
def test_countdown_is_the_old_template(cast, status, due):
    sprint = cast.nova_sprint
    sprint.status, sprint.due_at = status, timezone.now() + due
    assert countdown(sprint) == old(OLD_COUNTDOWN, sprint=sprint)


@pytest.mark.parametrize("score,blockers", [(None, None), (0, 0), (87, 1), (55, 3)])
def test_latest_score_is_the_old_template(cast, score, blockers):
    sprint = cast.nova_sprint
    sprint.latest_score, sprint.latest_grade, sprint.latest_blockers = score, "B<", blockers
    sprint.latest_scan_at = timezone.now() - timedelta(hours=2, minutes=5)
    assert latest_score(sprint) == old(OLD_SCORE, sprint=sprint)


def test_stage_bars_are_the_old_template():
    stages = [StageProgress(1, "Ship <it> & see", 3, 7), StageProgress(2, "Empty", 0, 0), StageProgress(3, "x", 5, 5)]
    assert stage_bars(stages) == old(OLD_STAGE_BARS, stages=stages)


def test_an_item_saved_as_a_row_renders_through_the_htmx_template(cast, login):
    item = SprintItem.objects.filter(sprint=cast.nova_sprint).first()
    response = login(cast.alice).get(f"/sprints/items/{item.pk}/", HTTP_HX_REQUEST="true")
    assert response.content.decode() == item_row(item, True)


@pytest.mark.parametrize("decision,scanned,name", [
    ("", False, "Nova <Chat> & Co"), (Sprint.GO, True, "Plain"), (Sprint.NO_GO, True, "Ünïcode"),
])
def test_dashboard_row_is_the_old_template(cast, decision, scanned, name):
    sprint = Sprint.objects.filter(pk=cast.nova_sprint.pk).with_latest_scan().attach_stage_progress()[0]
    sprint.client = cast.nova_sprint.client
    sprint.client.name, sprint.title, sprint.decision = name, "Sprint <one> & more", decision
    if scanned:
        sprint.latest_score, sprint.latest_grade, sprint.latest_blockers = 71, "C", 2
        sprint.latest_scan_at = timezone.now() - timedelta(minutes=50)
    assert sprint.stage_progress and sprint.items_total
    assert dashboard_row(sprint) == old(OLD_DASHBOARD_ROW, sprint=sprint)
    sprint.stage_progress, sprint.items_total, sprint.items_done = [], 0, 0  # a sprint without items
    assert dashboard_row(sprint) == old(OLD_DASHBOARD_ROW, sprint=sprint)
