import time
from unittest import mock

import pytest
from django.core import mail, signing
from django.urls import reverse

from apps.tenants.models import User

from .conftest import MALFORMED, link_in

CHANGE = reverse("tenants:email_change")


def _ask(client, password, new_email="bob.new@acme.test"):
    return client.post(CHANGE, {"new_email": new_email, "current_password": password})


@pytest.mark.django_db
def test_email_change_sends_a_link_to_the_new_address_and_changes_nothing_yet(cast, login):
    client = login(cast.bob)
    assert client.get(CHANGE).status_code == 200
    response = _ask(client, cast.password, "Bob.New@Acme.test")
    assert response.status_code == 302 and response.url == reverse("tenants:account")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["bob.new@acme.test"]
    cast.bob.refresh_from_db()
    assert cast.bob.email == "bob@acme.test"


@pytest.mark.django_db
def test_the_confirmation_link_changes_the_email_exactly_once(cast, login):
    client = login(cast.bob)
    _ask(client, cast.password)
    path = link_in(mail.outbox[0])

    page = client.get(path)
    assert page.status_code == 200 and "bob.new@acme.test" in page.content.decode()
    cast.bob.refresh_from_db()
    assert cast.bob.email == "bob@acme.test"  # opening the page alone changes nothing

    response = client.post(path)
    assert response.status_code == 302 and response.url == reverse("tenants:account")
    cast.bob.refresh_from_db()
    assert cast.bob.email == "bob.new@acme.test"
    notice = mail.outbox[-1]
    assert notice.to == ["bob@acme.test"] and "changed" in notice.subject

    assert client.get(path).status_code == 404
    assert client.post(path).status_code == 404
    client.logout()
    assert client.post(reverse("tenants:login"), {"username": "bob.new@acme.test",
                                                  "password": cast.password}).status_code == 302


@pytest.mark.django_db
def test_the_confirmation_link_expires(cast, login):
    client = login(cast.bob)
    _ask(client, cast.password)
    path = link_in(mail.outbox[0])
    later = time.time() + User.EMAIL_CHANGE_MAX_AGE.total_seconds() + 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert client.post(path).status_code == 404
    cast.bob.refresh_from_db()
    assert cast.bob.email == "bob@acme.test"


@pytest.mark.django_db
def test_the_confirmation_link_works_only_for_the_account_that_asked(cast, client):
    client.force_login(cast.bob)
    _ask(client, cast.password)
    path = link_in(mail.outbox[0])
    client.force_login(cast.charlie)
    assert client.post(path).status_code == 404
    cast.charlie.refresh_from_db()
    assert cast.charlie.email == "charlie@other.test"


@pytest.mark.django_db
def test_the_confirmation_link_needs_a_login(cast, login):
    client = login(cast.bob)
    _ask(client, cast.password)
    path = link_in(mail.outbox[0])
    client.logout()
    response = client.get(path)
    assert response.status_code == 302 and response.url.startswith(reverse("tenants:login"))


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["garbage", "x" * 600, signing.dumps({"user": 1, "to": "a@b.test"}),
                                   signing.dumps([1, 2], salt=User.EMAIL_CHANGE_SALT)])
def test_forged_or_foreign_tokens_are_a_clear_404(cast, login, token):
    response = login(cast.bob).post(reverse("tenants:email_confirm", args=[token]))
    assert response.status_code == 404 and "no longer works" in response.content.decode()


@pytest.mark.django_db
def test_when_someone_takes_the_address_meanwhile_the_link_says_so(cast, login):
    client = login(cast.bob)
    _ask(client, cast.password)
    User.objects.create_user("bob.new@acme.test", "whatever-pass-123")
    response = client.post(link_in(mail.outbox[0]))
    assert response.status_code == 409 and "Another account" in response.content.decode()
    cast.bob.refresh_from_db()
    assert cast.bob.email == "bob@acme.test"


@pytest.mark.django_db
@pytest.mark.parametrize("new_email, password, field", [
    ("bob.new@acme.test", "wrong-password", "current_password"),
    ("BOB@acme.test", None, "new_email"),          # already yours
    ("alice@acme.test", None, "new_email"),        # someone else's
    ("not-an-email", None, "new_email"),
])
def test_email_change_refuses_bad_requests(cast, login, new_email, password, field):
    response = _ask(login(cast.bob), password or cast.password, new_email)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert mail.outbox == []


@pytest.mark.django_db
@pytest.mark.parametrize("label", MALFORMED)
def test_email_change_refuses_malformed_values(cast, login, label):
    response = _ask(login(cast.bob), MALFORMED[label], MALFORMED[label])
    assert response.status_code == 200
    assert {"new_email", "current_password"} <= set(response.context["form"].errors)
    assert mail.outbox == []
