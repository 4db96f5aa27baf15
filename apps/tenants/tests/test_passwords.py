from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.urls import reverse

from .conftest import MALFORMED, link_in

RESET = reverse("tenants:password_reset")
CHANGE = reverse("tenants:password_change")
NEW = "lighthouse-marmalade-93"


def _request_reset(client, email="alice@acme.test"):
    response = client.post(RESET, {"email": email})
    assert response.status_code == 302 and response.url == reverse("tenants:password_reset_done")
    return response


def _use_link(client, path, password=NEW):
    """Open the emailed link, then submit a new password on the page it leads to."""
    landing = client.get(path)
    if landing.status_code != 302:
        return landing
    form_page = client.get(landing.url)
    if not form_page.context["validlink"]:
        return form_page
    return client.post(landing.url, {"new_password1": password, "new_password2": password})


@pytest.mark.django_db
def test_password_reset_emails_a_link_that_works_exactly_once(cast, client):
    assert client.get(RESET).status_code == 200
    _request_reset(client, "Alice@Acme.test")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@acme.test"]
    path = link_in(mail.outbox[0])

    response = _use_link(client, path)
    assert response.status_code == 302 and response.url == reverse("home")
    cast.alice.refresh_from_db()
    assert cast.alice.check_password(NEW)

    client.logout()
    second = _use_link(client, path, password="another-fresh-pass-77")
    assert second.status_code == 200 and not second.context["validlink"]
    assert "no longer works" in second.content.decode()
    cast.alice.refresh_from_db()
    assert cast.alice.check_password(NEW)


@pytest.mark.django_db
def test_password_reset_link_expires(cast, client, settings):
    _request_reset(client)
    path = link_in(mail.outbox[0])
    later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    with mock.patch.object(default_token_generator, "_now", return_value=later):
        response = _use_link(client, path)
    assert response.status_code == 200 and not response.context["validlink"]
    cast.alice.refresh_from_db()
    assert cast.alice.check_password(cast.password)


@pytest.mark.django_db
def test_password_reset_link_uses_site_url_not_the_host_header(cast, client, settings):
    settings.SITE_URL = "https://app.launchready.test"
    client.post(RESET, {"email": "alice@acme.test"}, HTTP_HOST="testserver")
    assert "https://app.launchready.test/accounts/password/reset/" in mail.outbox[0].body


@pytest.mark.django_db
def test_password_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(cast, client):
    _request_reset(client, "nobody@nowhere.test")
    assert mail.outbox == []


@pytest.mark.django_db
def test_password_reset_refuses_a_weak_new_password(cast, client):
    _request_reset(client)
    response = _use_link(client, link_in(mail.outbox[0]), password="12345")
    assert response.status_code == 200 and response.context["form"].errors["new_password2"]


@pytest.mark.django_db
@pytest.mark.parametrize("label", MALFORMED)
def test_password_reset_refuses_malformed_addresses(cast, client, label):
    response = client.post(RESET, {"email": MALFORMED[label]})
    assert response.status_code == 200 and response.context["form"].errors["email"]
    assert mail.outbox == []


@pytest.mark.django_db
def test_password_reset_with_a_garbled_link_is_a_clear_page(cast, client):
    response = client.get(reverse("tenants:password_reset_confirm", args=["zzzz", "not-a-token"]))
    assert response.status_code == 200 and not response.context["validlink"]


@pytest.mark.django_db
def test_password_change_needs_the_old_password_and_keeps_you_logged_in(cast, login):
    client = login(cast.bob)
    assert client.get(CHANGE).status_code == 200
    response = client.post(CHANGE, {"old_password": cast.password, "new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302 and response.url == reverse("tenants:account")
    cast.bob.refresh_from_db()
    assert cast.bob.check_password(NEW)
    assert client.get(reverse("tenants:account")).status_code == 200


@pytest.mark.django_db
def test_password_change_refuses_a_wrong_old_password_and_mismatches(cast, login):
    client = login(cast.bob)
    response = client.post(CHANGE, {"old_password": "nope", "new_password1": NEW, "new_password2": NEW + "x"})
    errors = response.context["form"].errors
    assert "old_password" in errors
    response = client.post(CHANGE, {"old_password": cast.password, "new_password1": NEW,
                                    "new_password2": NEW + "x"})
    assert "new_password2" in response.context["form"].errors


@pytest.mark.django_db
@pytest.mark.parametrize("label", MALFORMED)
def test_password_change_refuses_malformed_values(cast, login, label):
    value = MALFORMED[label]
    response = login(cast.bob).post(CHANGE, {"old_password": value, "new_password1": value, "new_password2": value})
    assert response.status_code == 200 and response.context["form"].errors
    cast.bob.refresh_from_db()
    assert cast.bob.check_password(cast.password)


@pytest.mark.django_db
def test_password_change_needs_a_login(client):
    response = client.get(CHANGE)
    assert response.status_code == 302 and response.url.startswith(reverse("tenants:login"))
