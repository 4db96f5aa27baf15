"""The "Email delivery test" panel on the sprint page and in the founder portal, through the real views."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.inbound.models import OPEN_FOR, DeliveryTest

pytestmark = pytest.mark.django_db

ARRIVED_VERDICT = {
    "spf": {"result": "pass", "reason": "matched ip4:127.0.0.1", "domain": "sender-app.lrtest"},
    "dkim": [{"domain": "sender-app.lrtest", "selector": "app", "result": "pass", "reason": "signature verified"}],
    "dmarc": {"result": "pass", "from_domain": "mail.nova.example", "spf_aligned": True, "dkim_aligned": True,
              "policy": "reject"},
}


def sprint_page(cast):
    return reverse("sprints:detail", kwargs={"sprint_id": cast.nova_sprint.pk})


def request_url(sprint):
    return reverse("inbound:request", kwargs={"sprint_id": sprint.pk})


def test_sprint_page_offers_the_button_to_consultant_and_founder(cast, login):
    for user in (cast.bob, cast.fiona):
        page = login(user).get(sprint_page(cast)).content.decode()
        assert "Email delivery test" in page
        assert request_url(cast.nova_sprint) in page and "Create a test address" in page


def test_founder_portal_shows_the_panel(cast, login):
    page = login(cast.fiona).get(reverse("sprints:portal")).content.decode()
    assert "Email delivery test" in page and request_url(cast.nova_sprint) in page
    assert 'name="return_to" value="portal"' in page


@pytest.mark.parametrize("who", ["bob", "fiona"])
def test_creating_an_address_shows_it_with_instructions(cast, login, settings, who):
    settings.INBOUND_EMAIL_DOMAIN = "inbound.lrtest"
    client = login(getattr(cast, who))
    response = client.post(request_url(cast.nova_sprint), {"return_to": "sprint"})
    assert response.status_code == 302 and response.url == sprint_page(cast) + f"#delivery-test-{cast.nova_sprint.pk}"
    test = DeliveryTest.objects.get(sprint=cast.nova_sprint)
    assert test.address == f"check-{test.token}@inbound.lrtest"
    page = client.get(sprint_page(cast)).content.decode()
    assert test.address in page
    assert "trigger a welcome or password-reset email" in page.lower()
    assert "Waiting since" in page
    assert f'hx-get="{reverse("inbound:test", kwargs={"deliverytest_id": test.pk})}' in page  # htmx polls
    assert "Reload to see whether it arrived" in page  # and without JavaScript a link does the same


def test_pressing_twice_gives_one_open_address(cast, login):
    client = login(cast.alice)
    client.post(request_url(cast.nova_sprint))
    client.post(request_url(cast.nova_sprint))
    test = DeliveryTest.objects.get(sprint=cast.nova_sprint)
    assert cast.nova_sprint.activity.filter(text__contains=test.address).count() == 1  # logged once


def test_founder_created_from_the_portal_goes_back_to_the_portal(cast, login):
    response = login(cast.fiona).post(request_url(cast.nova_sprint), {"return_to": "portal"})
    assert response.status_code == 302 and response.url == reverse("sprints:portal") + f"#delivery-test-{cast.nova_sprint.pk}"
    test = DeliveryTest.objects.get(sprint=cast.nova_sprint)
    assert test.address in login(cast.fiona).get(reverse("sprints:portal")).content.decode()


def test_htmx_create_and_poll_return_the_fragment(cast, login):
    client = login(cast.bob)
    created = client.post(request_url(cast.nova_sprint), HTTP_HX_REQUEST="true")
    test = DeliveryTest.objects.get(sprint=cast.nova_sprint)
    fragment = created.content.decode()
    assert created.status_code == 200
    assert f'id="delivery-test-{cast.nova_sprint.pk}"' in fragment and "<html" not in fragment and test.address in fragment
    polled = client.get(reverse("inbound:test", kwargs={"deliverytest_id": test.pk}), HTTP_HX_REQUEST="true")
    assert polled.status_code == 200 and "<html" not in polled.content.decode()
    assert "Waiting since" in polled.content.decode()


def test_test_page_without_javascript_is_a_full_page(cast, login):
    test = DeliveryTest.objects.create(sprint=cast.nova_sprint)
    response = login(cast.fiona).get(reverse("inbound:test", kwargs={"deliverytest_id": test.pk}) + "?return_to=x")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body and test.address in body
    assert reverse("sprints:detail", kwargs={"sprint_id": cast.nova_sprint.pk}) in body  # bad return_to: sprint


def test_arrived_test_shows_the_verdict_and_headers(cast, login):
    test = DeliveryTest.objects.create(sprint=cast.nova_sprint, requested_at=timezone.now() - timedelta(minutes=2))
    test.record_arrival(envelope_sender="bounces@sender-app.lrtest", connecting_ip="127.0.0.1",
                        headers=[("DKIM-Signature", "v=1; d=sender-app.lrtest"), ("Subject", "<b>Welcome</b>")],
                        verdict=ARRIVED_VERDICT)
    for user in (cast.bob, cast.fiona):
        page = login(user).get(sprint_page(cast)).content.decode()
        assert "Waiting since" not in page and "hx-trigger=\"every 5s\"" not in page  # no more polling
        assert "SPF" in page and "matched ip4:127.0.0.1" in page
        assert "d=sender-app.lrtest s=app" in page and "DMARC alignment" in page
        assert "From domain mail.nova.example · SPF aligned · DKIM aligned" in page
        assert f"{test.verdict['minutes_to_arrive']} minutes after the address was created" in page
        assert "Headers kept (2)" in page and "&lt;b&gt;Welcome&lt;/b&gt;" in page  # escaped, never raw HTML
        assert "Create a new test address" in page


def test_a_forged_arrival_shows_fail(cast, login):
    test = DeliveryTest.objects.create(sprint=cast.nova_sprint)
    test.record_arrival(envelope_sender="ceo@mail-good.lrtest", connecting_ip="127.0.0.1", headers=[("From", "x")],
                        verdict={"spf": {"result": "fail", "reason": "-all", "domain": "mail-good.lrtest"},
                                 "dkim": [], "dmarc": {"result": "fail", "from_domain": "mail-good.lrtest"}})
    page = login(cast.bob).get(sprint_page(cast)).content.decode()
    assert 'badge badge-fail">fail</span> The test email arrived but SPF fail' in page
    assert "not DKIM-signed" in page


def test_an_expired_test_says_so_and_offers_a_new_address(cast, login):
    old = DeliveryTest.objects.create(sprint=cast.nova_sprint,
                                      requested_at=timezone.now() - OPEN_FOR - timedelta(minutes=1))
    assert old.expired and old.state == "expired"
    client = login(cast.fiona)
    page = client.get(sprint_page(cast)).content.decode()
    assert "expired" in page and "no longer accepts mail" in page and "Waiting since" not in page
    client.post(request_url(cast.nova_sprint))
    new = DeliveryTest.objects.filter(sprint=cast.nova_sprint).exclude(pk=old.pk).get()
    assert new.state == "waiting" and new.token != old.token
    assert list(DeliveryTest.objects.open()) == [new]


@pytest.mark.parametrize("value", ["x" * 5000, "<script>alert(1)</script>", "élan ☃", "1", "portal\x00", ["a", "b"]])
def test_malformed_return_to_is_a_field_error(cast, login, value):
    response = login(cast.bob).post(request_url(cast.nova_sprint), {"return_to": value})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode() or "Null characters" in response.content.decode()
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert not DeliveryTest.objects.exists()


def test_it_checks_ownership(cast, login):
    nova_test = DeliveryTest.objects.create(sprint=cast.nova_sprint)
    orbit_test = DeliveryTest.objects.create(sprint=cast.orbit_sprint)
    cases = [(cast.charlie, cast.nova_sprint, nova_test), (cast.fiona, cast.orbit_sprint, orbit_test)]
    for user, sprint, test in cases:
        client = login(user)
        assert client.post(request_url(sprint)).status_code == 404
        assert client.get(request_url(sprint)).status_code in (404, 405)
        test_url = reverse("inbound:test", kwargs={"deliverytest_id": test.pk})
        assert client.get(test_url).status_code == 404
        assert client.post(test_url).status_code == 404
        assert client.get(test_url, HTTP_HX_REQUEST="true").status_code == 404
    assert DeliveryTest.objects.count() == 2  # nobody outside created one
    # A founder's portal shows only their own client's test.
    portal = login(cast.fiona).get(reverse("sprints:portal")).content.decode()
    assert nova_test.address in portal and orbit_test.address not in portal


def test_anonymous_users_are_sent_to_login(cast, client):
    response = client.post(request_url(cast.nova_sprint))
    assert response.status_code == 302 and "login" in response.url
    assert not DeliveryTest.objects.exists()


def test_portal_panels_do_not_query_per_client(cast, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.clients.models import Client
    from apps.sprints.models import Sprint
    from apps.tenants.models import ClientAccess

    def arrived_test_for(sprint):
        DeliveryTest.objects.create(sprint=sprint).record_arrival(
            envelope_sender="b@sender-app.lrtest", connecting_ip="127.0.0.1", headers=[("From", "x")],
            verdict=ARRIVED_VERDICT)

    arrived_test_for(cast.nova_sprint)
    web = login(cast.fiona)
    with CaptureQueriesContext(connection) as few:
        web.get(reverse("sprints:portal"))
    for i in range(4):
        client = Client.objects.create(workspace=cast.acme, name=f"Founder co {i}", domain=f"f{i}.example")
        ClientAccess.objects.create(user=cast.fiona, client=client)
        arrived_test_for(Sprint.start(client=client, status=Sprint.ACTIVE))
    with CaptureQueriesContext(connection) as many:
        body = web.get(reverse("sprints:portal")).content.decode()
    assert body.count("Headers kept (1)") == 5
    assert len(set(re.findall(r'id="(delivery-test-[0-9a-f-]+)"', body))) == 5  # one htmx target per sprint
    assert len(many.captured_queries) == len(few.captured_queries)


def test_only_the_newest_arrival_sets_the_checklist_item(cast):
    from apps.checks.models import ScanRun
    from apps.inbound.findings import record_in_checklist

    waiting = DeliveryTest.objects.create(sprint=cast.nova_sprint)
    assert record_in_checklist(waiting) is None and not ScanRun.objects.exists()
    older, newer = (DeliveryTest.objects.create(sprint=cast.nova_sprint) for _ in range(2))
    newer.record_arrival(envelope_sender="b@sender-app.lrtest", connecting_ip="127.0.0.1", headers=[("From", "x")],
                         verdict=ARRIVED_VERDICT)
    older.record_arrival(envelope_sender="b@x.lrtest", connecting_ip="127.0.0.1", headers=[("From", "x")],
                         verdict={"spf": {"result": "fail"}, "dkim": [], "dmarc": {"result": "fail"}},
                         at=newer.arrived_at - timedelta(seconds=1))
    assert record_in_checklist(newer).findings.get().status == "pass"
    assert record_in_checklist(older) is None  # its task ran late: the newer verdict stands
    assert cast.nova_sprint.items.get(check_id="email.delivery").status == "pass"


@pytest.mark.parametrize("data", [None, {"return_to": 'ev"<il>'}, {}, {"return_to": ""}])
def test_the_written_out_hidden_input_is_the_widget(cast, data):
    """The panel writes the return_to input by hand (speed); it must stay what the form's widget renders."""
    from django.template.loader import render_to_string

    from apps.inbound.forms import DeliveryTestRequestForm
    from apps.inbound.panel import panel_context

    form = DeliveryTestRequestForm(data) if data is not None else None
    context = panel_context(cast.nova_sprint, None, "portal", form=form)
    html = render_to_string("inbound/_panel.html", context)
    assert str(context["form"]["return_to"]) in html
