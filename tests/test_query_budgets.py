"""Query budgets: the pages benchmarks/web_at_scale.py loads make as many SQL queries with 30 rows of everything
they list as with 3 (no N+1 anywhere), for consultants and founders alike."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.billing.models import ScoreOrder
from apps.checks.models import Finding, ScanRun
from apps.clients.models import Client, Endpoint, EnvVar, Hostname, Owner, RunbookStep, VendorAccount
from apps.reports.models import HandoverPack
from apps.sprints.models import ActivityEntry, Sprint
from apps.tenants.models import ClientAccess

FEW, MANY = 3, 30
STATUSES = ["pass", "warn", "fail", "error", "skipped"]


def _scan(client, sprint, n, tag, *, minutes_ago=0):
    when = timezone.now() - timedelta(minutes=minutes_ago)
    scan = ScanRun.objects.create(client=client, sprint=sprint, profile="internet", domain=client.domain
                                  if client else "lead.example", state=ScanRun.DONE, parts_total=1, parts_done=1,
                                  started_at=when, finished_at=when, score=70, grade="C", decision="go")
    Finding.objects.bulk_create(
        Finding(scan=scan, check_id=f"http.check{i % 7}", target=f"https://{tag}{i}.example/",
                status=STATUSES[i % 5], severity="high", summary=f"finding {tag} {i}", remediation="fix it")
        for i in range(n))
    return scan


def _grow(cast, order, start, stop):
    """Rows [start, stop) of everything the five pages list, for nova (alice's client, fiona's)."""
    nova, sprint = cast.nova, cast.nova_sprint
    for i in range(start, stop):
        tag = f"r{i}"
        Hostname.objects.create(client=nova, name=f"h{i}.nova.example")
        Endpoint.objects.create(client=nova, kind="other", url=f"https://nova.example/{tag}")
        EnvVar.objects.create(client=nova, name=f"VAR_{i}", environments=["production"], secret=i % 2 == 0)
        VendorAccount.objects.create(client=nova, vendor=f"Vendor {i}", two_factor=i % 2 == 0)
        RunbookStep.objects.create(client=nova, kind="deploy" if i % 2 else "rollback", position=i, text=f"step {i}")
        Owner.objects.create(client=nova, area=f"area {i}", person=f"Person {i}")
        ActivityEntry.objects.create(client=nova, sprint=None, actor=cast.alice, text=f"client change {i}")
        ActivityEntry.objects.create(client=nova, sprint=sprint, actor=cast.bob, text=f"sprint change {i}")
        old = Sprint.start(client=nova, created_by=cast.alice, status=Sprint.CLOSED, title=f"Old sprint {i}")
        HandoverPack.objects.create(sprint=old, version=1, requested_by=cast.alice)
        # Another running sprint on the dashboard, and another client shared with the founder (portal).
        other = Client.objects.create(workspace=cast.acme, name=f"Scaled co {i}", domain=f"scaled{i}.example")
        ClientAccess.objects.create(user=cast.fiona, client=other)
        Sprint.start(client=other, created_by=cast.alice, status=Sprint.ACTIVE if i % 2 else Sprint.HANDED_OVER)
        _scan(other, None, 2, tag)
        _scan(nova, sprint, 2, tag, minutes_ago=i + 1)  # older scans of the sprint
    # The newest scan of the sprint, and the self-serve order's scan, with `stop` findings each.
    _scan(nova, sprint, stop, f"latest{stop}")
    Finding.objects.filter(scan=order.scan).delete()
    Finding.objects.bulk_create(
        Finding(scan=order.scan, check_id=f"tls.check{i % 5}", target=f"https://lead{i}.example/",
                status=STATUSES[i % 5], severity="medium", summary=f"lead finding {i}") for i in range(stop))


@pytest.fixture
def world(cast):
    scan = _scan(None, None, 0, "lead")
    order = ScoreOrder.objects.create(workspace=cast.acme, domain="lead.example", email="buyer@lead.example",
                                      amount=4900, currency="eur", state=ScoreOrder.DONE, scan=scan)
    _grow(cast, order, 0, FEW)
    return order


PAGES = {
    "dashboard": ("alice", lambda cast, order: reverse("sprints:dashboard"), "Scaled co 2"),
    "client": ("alice", lambda cast, order: reverse("clients:detail", args=[cast.nova.pk]), "h2.nova.example"),
    "client as founder": ("fiona", lambda cast, order: reverse("clients:detail", args=[cast.nova.pk]), "VAR_2"),
    "sprint": ("alice", lambda cast, order: reverse("sprints:detail", args=[cast.nova_sprint.pk]), "sprint change 2"),
    "sprint as founder": ("fiona", lambda cast, order: reverse("sprints:detail", args=[cast.nova_sprint.pk]),
                          "sprint change 2"),
    "portal": ("fiona", lambda cast, order: reverse("sprints:portal"), "Scaled co 2"),
    "score": (None, lambda cast, order: reverse("billing:score", args=[order.access_token]), "lead finding 2"),
}


def _queries(web, url, needle):
    with CaptureQueriesContext(connection) as ctx:
        response = web.get(url)
    body = response.content.decode()
    assert response.status_code == 200 and needle in body
    return [q["sql"] for q in ctx.captured_queries], body


@pytest.mark.parametrize("page", list(PAGES))
def test_the_page_makes_as_many_queries_for_30_rows_as_for_3(page, cast, world, client):
    who, url_of, needle = PAGES[page]
    if who:
        client.force_login(getattr(cast, who))
    url = url_of(cast, world)
    _queries(client, url, needle)  # first view creates what a first view creates (email setup, canaries …)
    few, _ = _queries(client, url, needle)

    _grow(cast, world, FEW, MANY)
    many, _ = _queries(client, url, needle)

    assert len(many) == len(few), "\n".join(many)
