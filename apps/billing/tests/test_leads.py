"""Self-serve orders as a workspace's leads, converted into a client + sprint in one click."""

import pytest
from django.urls import reverse

from apps.billing.models import ScoreOrder
from apps.clients.models import Client
from apps.sprints.models import Sprint

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(cast):
    return ScoreOrder.objects.create(workspace=cast.acme, domain="xn--bcher-laden-thb.example.com",
                                     email="founder@buecher.example", amount=4900, currency="usd",
                                     state=ScoreOrder.DONE)


@pytest.fixture
def rival_lead(cast):
    return ScoreOrder.objects.create(workspace=cast.other, domain="rival-startup.com", email="r@rival.example",
                                     amount=4900, currency="usd")


def _leads(cast):
    return reverse("billing:leads", kwargs={"workspace_id": cast.acme.pk})


def _convert(order):
    return reverse("billing:convert", kwargs={"scoreorder_id": order.pk})


def test_the_workspaces_orders_are_its_leads(cast, login, lead, rival_lead):
    page = login(cast.bob).get(_leads(cast)).content.decode()
    assert "bücher-laden.example.com" in page and "founder@buecher.example" in page
    assert "rival-startup.com" not in page
    assert "Convert to client" in page


def test_converting_a_lead_makes_a_client_and_sprint_on_the_scanned_domain(cast, login, lead):
    client = login(cast.bob)
    response = client.post(_convert(lead))
    new_client = Client.objects.get(domain="xn--bcher-laden-thb.example.com")
    sprint = Sprint.objects.get(client=new_client)
    assert response.status_code == 302 and response["Location"] == reverse("sprints:detail",
                                                                           kwargs={"sprint_id": sprint.pk})
    assert new_client.workspace == cast.acme and new_client.created_by == cast.bob
    assert "founder@buecher.example" in new_client.notes
    assert sprint.items.exists()
    lead.refresh_from_db()
    assert lead.converted_client == new_client
    again = client.post(_convert(lead))  # a double click converts once
    assert again["Location"] == reverse("clients:detail", kwargs={"client_id": new_client.pk})
    assert Client.objects.filter(domain=new_client.domain).count() == 1
    assert new_client.name in client.get(_leads(cast)).content.decode()


def test_it_checks_ownership(cast, login, lead, rival_lead):
    for outsider in (cast.charlie, cast.fiona):
        client = login(outsider)
        assert client.get(_leads(cast)).status_code == 404
        assert client.post(_convert(lead)).status_code == 404
    assert login(cast.alice).post(_convert(rival_lead)).status_code == 404
    assert login(cast.alice).get(_convert(lead)).status_code == 405
    assert not Client.objects.filter(domain__in=[lead.domain, rival_lead.domain]).exists()


def test_anonymous_visitors_are_sent_to_log_in(client, cast, lead):
    assert client.get(_leads(cast)).status_code == 302
    assert client.post(_convert(lead)).status_code == 302
    assert not Client.objects.filter(domain=lead.domain).exists()
