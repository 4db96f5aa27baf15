from datetime import timedelta

import pytest
from django.utils import timezone

from apps.sprints.models import Sprint, duration_words, percent


@pytest.mark.parametrize("delta,words", [
    (timedelta(hours=31, minutes=12, seconds=59), "31 h 12 min"),
    (timedelta(seconds=30), "0 min"),
    (timedelta(hours=2), "2 h 0 min"),
    (-timedelta(minutes=5), "5 min"),
    (timedelta(days=3, hours=1), "73 h 0 min"),
    (timedelta(days=10, hours=1, minutes=2), "10 d 1 h 2 min"),
])
def test_duration_words(delta, words):
    assert duration_words(delta) == words


def test_percent_of_nothing_is_zero():
    assert (percent(0, 0), percent(1, 3), percent(3, 3)) == (0, 33, 100)


def test_countdown_reads_like_a_sentence(cast):
    sprint = cast.nova_sprint
    sprint.due_at = timezone.now() + timedelta(hours=31, minutes=12, seconds=30)
    assert sprint.countdown == "31 h 12 min left" and not sprint.is_overdue
    sprint.due_at = timezone.now() - timedelta(hours=1, minutes=1, seconds=30)
    assert sprint.countdown == "overdue by 1 h 1 min" and sprint.is_overdue
    sprint.status = Sprint.CLOSED
    assert sprint.countdown == "closed" and not sprint.is_overdue


def test_status_only_moves_forward_one_step(cast):
    sprint = Sprint.start(client=cast.nova, created_by=cast.alice)
    assert sprint.status == Sprint.PLANNED
    with pytest.raises(ValueError):
        sprint.change_status(Sprint.HANDED_OVER, cast.alice)
    for status in (Sprint.ACTIVE, Sprint.HANDED_OVER, Sprint.CLOSED):
        sprint.change_status(status, cast.alice)
    assert sprint.next_status is None
    assert [e.text for e in sprint.activity.all()][:3] == [
        "changed the status from Handed over to Closed",
        "changed the status from Active to Handed over",
        "changed the status from Planned to Active",
    ]


def test_progress_counts_pass_warn_and_na_as_done(cast):
    sprint = cast.nova_sprint
    items = list(sprint.items.all()[:4])
    for item, status in zip(items, ["pass", "warn", "na", "fail"], strict=True):
        item.status = status
        item.save()
    total = sprint.items.count()
    annotated = Sprint.objects.with_progress().get(pk=sprint.pk)
    assert (annotated.items_done, annotated.items_total) == (3, total)
    assert Sprint.objects.get(pk=sprint.pk).progress_percent == round(300 / total)
    [with_stages] = Sprint.objects.filter(pk=sprint.pk).attach_stage_progress()
    assert sum(stage.done for stage in with_stages.stage_progress) == 3
    assert [stage.number for stage in with_stages.stage_progress] == [1, 2, 3, 4, 5, 6, 7]


def test_a_stale_copy_loses_the_status_race_without_a_second_log_line(cast):
    mine = Sprint.objects.get(pk=cast.orbit_sprint.pk)
    theirs = Sprint.objects.get(pk=cast.orbit_sprint.pk)
    assert mine.change_status(Sprint.HANDED_OVER, cast.alice) is True
    assert theirs.change_status(Sprint.HANDED_OVER, cast.bob) is False
    assert theirs.status == Sprint.HANDED_OVER
    assert cast.orbit_sprint.activity.filter(text__startswith="changed the status").count() == 1
